/**
 * Every public member has a doc comment (issue 15 item 2), and no public
 * declaration is typed `any`. Walks what src/node.ts (the whole public API)
 * exports with the TypeScript compiler: the exports themselves, and the
 * public properties, methods and accessors of exported classes and interfaces,
 * inherited ones included (a subclass shows them in editors too).
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from './consumer-kit.js';

function publicApi(): { undocumented: string[]; anyTyped: string[] } {
  const entry = join(REPO, 'src/node.ts');
  const program = ts.createProgram([entry], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, types: [] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const undocumented: string[] = [];
  const anyTyped: string[] = [];
  const documented = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim() !== '' || s.getJsDocTags(checker).length > 0;
  const isAny = (t: ts.Type) => (t.flags & ts.TypeFlags.Any) !== 0;
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const s = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!documented(s)) undocumented.push(exported.name);
    const decl = s.declarations?.[0];
    if (decl === undefined) continue;
    if (s.flags & ts.SymbolFlags.Function) {
      for (const sig of checker.getTypeOfSymbolAtLocation(s, decl).getCallSignatures()) {
        if (isAny(sig.getReturnType()) || sig.getParameters().some((p) => isAny(checker.getTypeOfSymbolAtLocation(p, decl)))) anyTyped.push(exported.name);
      }
    }
    if (!(s.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
    const type = checker.getDeclaredTypeOfSymbol(s);
    for (const member of checker.getPropertiesOfType(type)) {
      const md = member.valueDeclaration ?? member.declarations?.[0];
      if (md === undefined) continue;
      const mods = ts.getCombinedModifierFlags(md as ts.Declaration);
      if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || member.name.startsWith('#')) continue;
      if (md.getSourceFile().fileName.includes('node_modules')) continue; // Error.message and the like
      if (!documented(member)) undocumented.push(`${exported.name}.${member.name}`);
      const memberType = checker.getTypeOfSymbolAtLocation(member, md);
      const signatures = memberType.getCallSignatures();
      if (isAny(memberType) || signatures.some((sig) => isAny(sig.getReturnType()) || sig.getParameters().some((p) => isAny(checker.getTypeOfSymbolAtLocation(p, md))))) {
        anyTyped.push(`${exported.name}.${member.name}`);
      }
    }
  }
  return { undocumented, anyTyped };
}

describe('the public API', () => {
  const api = publicApi();

  it('has a doc comment on every export and every public member', () => {
    expect(api.undocumented).toEqual([]);
  });

  it('types no public function, parameter or member as any', () => {
    expect(api.anyTyped).toEqual([]);
  });
});
