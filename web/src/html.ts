// htm bound to Preact's h: tagged templates instead of JSX, so the sources need no JSX transform.
// Interpolated values become text nodes or properties, never parsed HTML, so user text cannot inject markup.
import htm from 'htm';
import { h } from 'preact';

export const html = htm.bind(h);
