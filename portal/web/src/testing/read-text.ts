/** An element's text as a person reads it, for specs: jsdom has no innerText, so blocks are set apart by hand. */

const BLOCKS = new Set(['DIV', 'P', 'UL', 'OL', 'LI', 'DT', 'DD', 'BUTTON', 'TR', 'TD', 'TH']);

/**
 * Text with each block (and button) on its own, and a status badge apart from its neighbours (a dot and a margin set
 * it off on screen); Angular's comment anchors left out, whitespace collapsed.
 */
export function readText(node: Node): string {
  return rawText(node).replace(/\s+/g, ' ').trim();
}

function rawText(node: Node): string {
  return [...node.childNodes]
    .map((child) => {
      if (child.nodeType === Node.COMMENT_NODE) return '';
      if (child.nodeType !== Node.ELEMENT_NODE) return child.textContent ?? '';
      const element = child as Element;
      const isApart = BLOCKS.has(element.tagName) || element.classList.contains('status');
      return isApart ? ` ${rawText(element)} ` : rawText(element);
    })
    .join('');
}
