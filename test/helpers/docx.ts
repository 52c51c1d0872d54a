// Reads a .docx the way a reader sees it: word/document.xml (jszip) parsed in order (fast-xml-parser) into
// the body's blocks: paragraphs with their style and text, and tables as rows of cell texts.

import { XMLParser } from "fast-xml-parser";
import JSZip from "jszip";

export type DocxBlock =
  | { kind: "paragraph"; style: string; text: string; runs: string[] }
  | { kind: "table"; rows: string[][] };

type Node = Record<string, unknown> & { ":@"?: Record<string, string> };

const childrenOf = (node: Node, tag: string): Node[] => (node[tag] as Node[] | undefined) ?? [];
const tagOf = (node: Node): string | undefined => Object.keys(node).find((k) => k !== ":@");

/** All text under `node`, in order (w:t elements; w:tab as a tab). */
function textOf(node: Node): string {
  const tag = tagOf(node);
  if (tag === "#text") return String(node["#text"]);
  if (tag === "w:tab") return "\t";
  if (!tag || tag === "w:rPr" || tag === "w:pPr") return "";
  return childrenOf(node, tag).map(textOf).join("");
}

function paragraph(p: Node): DocxBlock {
  const kids = childrenOf(p, "w:p");
  const pPr = kids.find((k) => tagOf(k) === "w:pPr");
  const styleNode = pPr && childrenOf(pPr, "w:pPr").find((k) => tagOf(k) === "w:pStyle");
  const runs = kids.filter((k) => tagOf(k) === "w:r").map(textOf);
  return { kind: "paragraph", style: styleNode?.[":@"]?.["@_w:val"] ?? "", text: runs.join(""), runs };
}

function table(t: Node): DocxBlock {
  const rows = childrenOf(t, "w:tbl")
    .filter((r) => tagOf(r) === "w:tr")
    .map((r) =>
      childrenOf(r, "w:tr")
        .filter((c) => tagOf(c) === "w:tc")
        .map((c) =>
          childrenOf(c, "w:tc")
            .filter((p) => tagOf(p) === "w:p")
            .map(textOf)
            .join("\n"),
        ),
    );
  return { kind: "table", rows };
}

export async function readDocxBlocks(bytes: Uint8Array): Promise<DocxBlock[]> {
  const zip = await JSZip.loadAsync(bytes);
  const xml = await zip.file("word/document.xml")?.async("string");
  if (xml === undefined) throw new Error("no word/document.xml in the .docx");
  const parsed = new XMLParser({ ignoreAttributes: false, preserveOrder: true, trimValues: false }).parse(
    xml,
  ) as Node[];
  const document = parsed.find((n) => tagOf(n) === "w:document");
  const body = document && childrenOf(document, "w:document").find((n) => tagOf(n) === "w:body");
  if (!body) throw new Error("no w:body in word/document.xml");
  const blocks: DocxBlock[] = [];
  for (const node of childrenOf(body, "w:body")) {
    const tag = tagOf(node);
    if (tag === "w:p") blocks.push(paragraph(node));
    else if (tag === "w:tbl") blocks.push(table(node));
  }
  return blocks;
}

/** The blocks after the Heading1 paragraph `title`, up to the next Heading1. */
export function docxSection(blocks: readonly DocxBlock[], title: string): DocxBlock[] {
  const start = blocks.findIndex((b) => b.kind === "paragraph" && b.style === "Heading1" && b.text === title);
  if (start < 0) return [];
  const rest = blocks.slice(start + 1);
  const end = rest.findIndex((b) => b.kind === "paragraph" && b.style === "Heading1");
  return end < 0 ? rest : rest.slice(0, end);
}
