/**
 * The drawing pad: pointer events (mouse, pen and touch alike) draw white ink
 * on black, and `pixels()` turns the drawing into an MNIST-style 28x28 input
 * the way the dataset was made: the ink's bounding box scaled into 20x20
 * (aspect kept), then placed so its centre of mass sits at the centre.
 */
export interface DrawPad {
  clear(): void;
  /** The drawing as 784 floats in [0, 1], or null when nothing is drawn. */
  pixels(): Float32Array | null;
  /** Paints a 28x28 image (floats in [0, 1]) onto the pad, as if drawn. */
  show(image: Float32Array): void;
}

export function drawPad(canvas: HTMLCanvasElement, onChange: () => void): DrawPad {
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const size = canvas.width;
  let drawn = false;
  let last: { x: number; y: number } | null = null;

  const clear = (): void => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, size, size);
    drawn = false;
  };
  const at = (e: PointerEvent): { x: number; y: number } => {
    const r = canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) * size) / r.width, y: ((e.clientY - r.top) * size) / r.height };
  };
  const line = (from: { x: number; y: number }, to: { x: number; y: number }): void => {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = size / 14;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(from.x, from.y);
    ctx.lineTo(to.x, to.y);
    ctx.stroke();
    drawn = true;
  };

  canvas.addEventListener('pointerdown', (e) => {
    canvas.setPointerCapture(e.pointerId);
    last = at(e);
    line(last, last);
    e.preventDefault();
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    line(last, p);
    last = p;
  });
  const end = (): void => {
    if (!last) return;
    last = null;
    onChange();
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);

  function pixels(): Float32Array | null {
    if (!drawn) return null;
    const src = ctx.getImageData(0, 0, size, size).data;
    let [x0, y0, x1, y1] = [size, size, -1, -1];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        if (src[(y * size + x) * 4]! > 20) {
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
      }
    }
    if (x1 < 0) return null;
    // Scale the ink's box into 20x20, keeping the aspect ratio.
    const w = x1 - x0 + 1;
    const h = y1 - y0 + 1;
    const s = 20 / Math.max(w, h);
    const box = document.createElement('canvas');
    box.width = box.height = 28;
    const bctx = box.getContext('2d', { willReadFrequently: true })!;
    bctx.fillStyle = '#000';
    bctx.fillRect(0, 0, 28, 28);
    bctx.imageSmoothingQuality = 'high';
    bctx.drawImage(canvas, x0, y0, w, h, 0, 0, Math.max(1, w * s), Math.max(1, h * s));
    const small = bctx.getImageData(0, 0, 28, 28).data;
    // Centre of mass to the centre (14, 14).
    let [m, mx, my] = [0, 0, 0];
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const v = small[(y * 28 + x) * 4]! / 255;
        m += v; mx += v * x; my += v * y;
      }
    }
    const dx = Math.round(13.5 - mx / m);
    const dy = Math.round(13.5 - my / m);
    const out = new Float32Array(784);
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) {
        const sx = x - dx;
        const sy = y - dy;
        if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = small[(sy * 28 + sx) * 4]! / 255;
      }
    }
    return out;
  }

  function show(image: Float32Array): void {
    clear();
    const cell = size / 28;
    for (let i = 0; i < 784; i++) {
      const v = Math.round(image[i]! * 255);
      if (v === 0) continue;
      ctx.fillStyle = `rgb(${v},${v},${v})`;
      ctx.fillRect((i % 28) * cell, Math.floor(i / 28) * cell, cell, cell);
    }
    drawn = true;
  }

  clear();
  return { clear, pixels, show };
}
