import { isAlias, isMap, isNode, isScalar, isSeq, visit, type Document, type Node } from 'yaml';

/** How many nodes a document's value may hold with its aliases expanded: an alias bomb stops here. */
const MAX_SIZE = 1_000_000;

/**
 * Plain values of a YAML document's nodes, aliases resolved through an anchor table built once.
 * yaml's own toJS looks every alias up by walking the whole document, which takes seconds for a
 * 200-service compose.yaml that merges `<<: *hardening` into each service. Values are memoised
 * per node: build a new one after changing the document.
 */
export class YamlValues {
  private readonly anchors = new Map<string, Node>();
  private readonly memo = new Map<unknown, { value: unknown; size: number }>();
  private readonly building = new Set<unknown>();

  constructor(doc: Document) {
    visit(doc, (_key, node) => {
      if (isNode(node) && !isAlias(node) && node.anchor) this.anchors.set(node.anchor, node);
    });
  }

  /** The value of a node (or a plain value as it is); throws for an unresolved alias or an alias bomb. */
  of(node: unknown): unknown {
    return this.entry(node).value;
  }

  private entry(node: unknown): { value: unknown; size: number } {
    if (!isNode(node)) return { value: node ?? null, size: 1 };
    const known = this.memo.get(node);
    if (known) return known;
    if (this.building.has(node)) throw new Error('an alias refers to a node that contains it');
    this.building.add(node);
    let out: { value: unknown; size: number };
    if (isScalar(node)) out = { value: node.value, size: 1 };
    else if (isAlias(node)) {
      const target = this.anchors.get(node.source);
      if (!target) throw new Error(`unresolved alias *${node.source}`);
      out = this.entry(target);
    } else if (isMap(node)) {
      const value: Record<string, unknown> = {};
      let size = 1;
      for (const pair of node.items) {
        const key = this.entry(pair.key);
        const item = this.entry(pair.value);
        value[String(key.value)] = item.value;
        size += key.size + item.size;
      }
      out = { value, size };
    } else if (isSeq(node)) {
      const items = node.items.map((item) => this.entry(item));
      out = { value: items.map((i) => i.value), size: 1 + items.reduce((n, i) => n + i.size, 0) };
    } else throw new Error('an unknown YAML node');
    this.building.delete(node);
    if (out.size > MAX_SIZE) throw new Error(`more than ${MAX_SIZE} nodes once aliases are expanded`);
    this.memo.set(node, out);
    return out;
  }

  /** The document's value. */
  document(doc: Document): unknown {
    return this.of(doc.contents);
  }
}
