// An independent reference of the HF Llama/Qwen forward for tests: plain float64 loops over the
// weights as stored in the checkpoint ([out, in]), full causal attention, no cache, no tfjs.
import type { ModelConfig } from '../../engine/model/config.js';

/** HF-named tensors as stored ([out, in] matrices), values as numbers. */
export type Named = Map<string, { shape: number[]; data: Float32Array }>;

function rms(x: number[], w: Float32Array | null, eps: number): number[] {
  const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
  const inv = 1 / Math.sqrt(ms + eps);
  return x.map((v, i) => v * inv * (w ? w[i] : 1));
}

/** y = W x + b with W stored [out, in]. */
function lin(t: Named, name: string, x: number[], bias: boolean): number[] {
  const w = t.get(`${name}.weight`)!;
  const [out, inn] = w.shape;
  const b = bias ? t.get(`${name}.bias`)!.data : null;
  const y = new Array<number>(out).fill(0);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inn; i++) s += w.data[o * inn + i] * x[i];
    y[o] = s;
  }
  return y;
}

function act(cfg: ModelConfig, g: number): number {
  if (cfg.hiddenAct === 'silu') return g / (1 + Math.exp(-g));
  return 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g ** 3)));
}

/** Logits [T][V] of one sequence; invFreq and mscale give RoPE (rotate_half, first rot dims). */
export function referenceLogits(cfg: ModelConfig, t: Named, ids: number[], invFreq: ArrayLike<number>, mscale = 1): number[][] {
  const { hiddenSize: d, numHeads: H, numKvHeads: K, headDim: D, rmsNormEps: eps } = cfg;
  const G = H / K;
  const rot = 2 * invFreq.length;
  const embed = t.get('model.embed_tokens.weight')!.data;
  let xs = ids.map((id) => Array.from(embed.subarray(id * d, (id + 1) * d)));
  const rope = (v: number[], pos: number) => {
    const out = [...v];
    for (let i = 0; i < rot / 2; i++) {
      const a = pos * invFreq[i];
      const c = Math.cos(a) * mscale;
      const s = Math.sin(a) * mscale;
      out[i] = v[i] * c - v[i + rot / 2] * s;
      out[i + rot / 2] = v[i + rot / 2] * c + v[i] * s;
    }
    return out;
  };
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}`;
    const g = (n: string) => t.get(`${p}.${n}`)?.data ?? null;
    const qs: number[][][] = [];
    const ks: number[][][] = [];
    const vs: number[][][] = [];
    xs.forEach((x, pos) => {
      const h = rms(x, g('input_layernorm.weight'), eps);
      const q = lin(t, `${p}.self_attn.q_proj`, h, cfg.attentionBias);
      const k = lin(t, `${p}.self_attn.k_proj`, h, cfg.attentionBias);
      const v = lin(t, `${p}.self_attn.v_proj`, h, cfg.attentionBias);
      const head = (a: number[], i: number) => a.slice(i * D, (i + 1) * D);
      qs.push(Array.from({ length: H }, (_, i) => rope(cfg.qkNorm ? rms(head(q, i), g('self_attn.q_norm.weight'), eps) : head(q, i), pos)));
      ks.push(Array.from({ length: K }, (_, i) => rope(cfg.qkNorm ? rms(head(k, i), g('self_attn.k_norm.weight'), eps) : head(k, i), pos)));
      vs.push(Array.from({ length: K }, (_, i) => head(v, i)));
    });
    xs = xs.map((x, i) => {
      const attn: number[] = [];
      for (let hq = 0; hq < H; hq++) {
        const kv = Math.floor(hq / G);
        const scores = Array.from({ length: i + 1 }, (_, j) => qs[i][hq].reduce((a, v, e) => a + v * ks[j][kv][e], 0) / Math.sqrt(D));
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < D; c++) attn.push(e.reduce((a, w, j) => a + (w / z) * vs[j][kv][c], 0));
      }
      const o = lin(t, `${p}.self_attn.o_proj`, attn, cfg.outputBias);
      const r = x.map((v, c) => v + o[c]);
      const m = rms(r, g('post_attention_layernorm.weight'), eps);
      const gate = lin(t, `${p}.mlp.gate_proj`, m, cfg.mlpBias);
      const up = lin(t, `${p}.mlp.up_proj`, m, cfg.mlpBias);
      const down = lin(
        t,
        `${p}.mlp.down_proj`,
        gate.map((gv, c) => act(cfg, gv) * up[c]),
        cfg.mlpBias,
      );
      return r.map((v, c) => v + down[c]);
    });
  }
  const head = t.get('lm_head.weight') ?? t.get('model.embed_tokens.weight')!;
  return xs.map((x) => {
    const h = rms(x, t.get('model.norm.weight')!.data, eps);
    return Array.from({ length: cfg.vocabSize }, (_, v) => h.reduce((a, hv, c) => a + hv * head.data[v * d + c], 0));
  });
}
