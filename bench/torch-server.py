"""PyTorch's side of `npm run bench -- --vs torch` (bench/torch-rows.ts starts it).

A server over stdin/stdout, one JSON object per line each way, so the Python
start-up and torch's import are never timed. Requests:

  {"cmd": "load", "dir": d}   d holds model.py (pytorchModuleSource), model.safetensors
                              (saveCheckpoint(model, path, {layout: 'pytorch'})), x.f32
                              ([batch, 28, 28, 1] NHWC float32) and y.f32 ([batch, 10]).
                              Reply: {"torch": version, "batch": batch, "timed": description}
  {"cmd": "check", "model": "nchw" | "generated", "dtype": "float32" | "float64"}
                              one training-mode forward + backward from the loaded weights,
                              no update (a float64 copy of the network for "float64").
                              Reply: {"loss": L, "gradNorm": |dL/d first conv weight|}
  {"cmd": "time", "case": "train-step" | "inference" | "inference-1", "threads": t,
   "warmup": w, "runs": r, "inner": i}
                              w warm-up calls, then r samples of i calls each, timed with
                              time.perf_counter around the calls. Reply: {"samples": [ms per call]}
  {"cmd": "quit"}

Every failure is a reply {"error": message}; the server keeps running.

Two networks from the same weights: the generated module (NHWC in, F.pad for
TensorFlow's SAME padding on every conv, as pytorchModuleSource writes it) and
the one that is timed, written as a PyTorch user would: NCHW input (permuted
once, outside the timing: it is PyTorch's native layout as NHWC is normgrad's),
nn.Conv2d with symmetric padding where SAME is symmetric and an F.pad only
where TensorFlow puts the odd pixel bottom/right (stride 2 on an even size),
in-place ReLU, nn.Flatten (the spatial size is 1x1 there). Both load the same
state dict strictly, so their state-dict names and values are the same.
"""
import copy
import importlib.util
import json
import os
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F

LEARNING_RATE = 0.002  # the lesson's, as bench/normgrad-rows.ts
ADAM_EPSILON = 1e-7  # normgrad's Adam default


class PadConv2d(nn.Conv2d):
    """nn.Conv2d; `pad` (left, right, top, bottom) for the asymmetric SAME cases, else symmetric padding."""

    def __init__(self, *args, pad=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pad = pad

    def forward(self, x):
        return super().forward(F.pad(x, self.pad) if self.pad is not None else x)


def nchw_network(gen, mod, example_nchw):
    """The generated module's layers rebuilt as idiomatic NCHW PyTorch; the shapes come from one probe pass."""
    layers = []
    x = example_nchw
    gen.eval()  # the probe is one example: batch statistics need more
    with torch.no_grad():
        for m in gen.features:
            if isinstance(m, mod.Conv2d):
                if m.activation != 'linear' or m.groups != 1:
                    raise ValueError('nchw network: conv with activation or groups not supported')
                pad, padding = None, 0
                if m.tf_padding == 'same':
                    top, bottom = mod.tf_same_pads(x.shape[2], m.kernel_size[0], m.stride[0], m.dilation[0])
                    left, right = mod.tf_same_pads(x.shape[3], m.kernel_size[1], m.stride[1], m.dilation[1])
                    if top == bottom and left == right:
                        padding = (top, left)
                    else:
                        pad = (left, right, top, bottom)
                new = PadConv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride, padding=padding,
                                dilation=m.dilation, bias=m.bias is not None, pad=pad)
            elif isinstance(m, mod.BatchNorm):
                if m.activation != 'linear':
                    raise ValueError('nchw network: batch norm with activation not supported')
                cls = nn.BatchNorm2d if x.dim() == 4 else nn.BatchNorm1d
                new = cls(m.num_features, eps=m.eps, momentum=m.momentum, affine=m.affine)
            elif isinstance(m, nn.ReLU):
                new = nn.ReLU(inplace=True)
            elif isinstance(m, mod.FlattenNHWC):
                # NCHW and NHWC flatten alike when the spatial size is 1x1.
                new = nn.Flatten() if x.dim() != 4 or (x.shape[2] == 1 and x.shape[3] == 1) else mod.FlattenNHWC()
            elif isinstance(m, mod.Linear):
                if m.activation != 'linear':
                    raise ValueError('nchw network: linear with activation not supported')
                new = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None)
            else:
                raise ValueError(f'nchw network: no idiomatic counterpart for {type(m).__name__}')
            x = m(x)
            layers.append(new)
    return NchwNet(layers)


class NchwNet(nn.Module):
    """The timed network: `features` indexed as the generated module's, so the state dicts match."""

    def __init__(self, layers):
        super().__init__()
        self.features = nn.Sequential(*layers)

    def forward(self, x):
        return self.features(x)


class Server:
    def __init__(self):
        self.loaded = False

    def load(self, req):
        d = req['dir']
        spec = importlib.util.spec_from_file_location('normgrad_bench_model', os.path.join(d, 'model.py'))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        self.mod = mod
        self.state = mod.load_safetensors(os.path.join(d, 'model.safetensors'))
        x = torch.frombuffer(bytearray(open(os.path.join(d, 'x.f32'), 'rb').read()), dtype=torch.float32)
        y = torch.frombuffer(bytearray(open(os.path.join(d, 'y.f32'), 'rb').read()), dtype=torch.float32)
        batch = y.numel() // 10
        self.x_nhwc = x.reshape(batch, 28, 28, 1).clone()
        self.x = self.x_nhwc.permute(0, 3, 1, 2).contiguous()
        self.y = y.reshape(batch, 10).clone()
        self.generated = mod.NormgradModel()
        self.generated.load_state_dict(self.state, strict=True)
        self.net = nchw_network(self.generated, mod, self.x[:1])
        self.net.load_state_dict(self.state, strict=True)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=LEARNING_RATE, eps=ADAM_EPSILON)
        self.loaded = True
        pads = [type(m).__name__ + ('+F.pad' if getattr(m, 'pad', None) else '') for m in self.net.features]
        return {'torch': torch.__version__, 'batch': batch,
                'timed': f'NCHW nn.Sequential of {len(pads)} modules, {sum(p.endswith("+F.pad") for p in pads)} convs with F.pad'}

    def check(self, req):
        which = req.get('model', 'nchw')
        net, x = (self.net, self.x) if which == 'nchw' else (self.generated, self.x_nhwc)
        net.load_state_dict(self.state, strict=True)
        y = self.y
        if req.get('dtype', 'float32') == 'float64':
            net, x, y = copy.deepcopy(net).double(), x.double(), y.double()
        net.train()
        net.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        loss.backward()
        first = next(m for m in net.features if isinstance(m, nn.Conv2d))
        grad_norm = first.weight.grad.double().norm().item()
        out = {'loss': loss.item(), 'gradNorm': grad_norm}
        net.zero_grad(set_to_none=True)
        net.load_state_dict(self.state, strict=True)  # the timed steps start from the same weights
        return out

    def step_fn(self, case):
        net = self.net
        if case == 'train-step':
            x, y, opt = self.x, self.y, self.optimizer
            net.train()

            def step():
                opt.zero_grad(set_to_none=True)
                loss = F.binary_cross_entropy_with_logits(net(x), y)
                loss.item()  # read back, as normgrad's step does
                loss.backward()
                opt.step()
            return step
        if case in ('inference', 'inference-1'):
            x = self.x if case == 'inference' else self.x[:1].contiguous()
            net.eval()

            def infer():
                with torch.inference_mode():
                    net(x)
            return infer
        raise ValueError(f'unknown case {case!r}')

    def time(self, req):
        torch.set_num_threads(int(req['threads']))
        fn = self.step_fn(req['case'])
        for _ in range(int(req['warmup'])):
            fn()
        inner = int(req['inner'])
        samples = []
        for _ in range(int(req['runs'])):
            t0 = time.perf_counter()
            for _ in range(inner):
                fn()
            samples.append((time.perf_counter() - t0) * 1000 / inner)
        return {'samples': samples, 'threads': torch.get_num_threads()}


def main():
    server = Server()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            cmd = req.get('cmd')
            if cmd == 'quit':
                break
            if cmd != 'load' and not server.loaded:
                raise RuntimeError('send "load" first')
            reply = {'load': server.load, 'check': server.check, 'time': server.time}[cmd](req)
        except Exception as e:  # the client shows the message as an n/a cell
            reply = {'error': f'{type(e).__name__}: {e}', 'trace': traceback.format_exc(limit=3)}
        sys.stdout.write(json.dumps(reply) + '\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()
