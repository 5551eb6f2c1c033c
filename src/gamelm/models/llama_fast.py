"""A plain torch forward pass over the weights of a transformers ``LlamaForCausalLM``.

The poker LM is stored and loaded as a standard transformers Llama (so every Hugging Face path
works on it), but its hot loops run this forward instead: the same parameters, the same maths
(RMSNorm, rotary embeddings, causal attention, SiLU-gated MLP), with explicit position ids and an
explicit boolean attention mask. The mask is what makes *packing* possible: the decisions of one
seat in one hand share a prefix, so training runs the whole hand as one sequence in which each
decision's tail of state tokens sees the shared prefix and itself, and nothing else sees it
(`gamelm.rollouts.packing`). It is also leaner than the transformers module on small models (no
cache objects, mask builders or attention dispatch), which is measured by ``gamelm bench train``.

Tests check it against ``LlamaForCausalLM`` on random inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _rms_norm(x: torch.Tensor, norm: nn.Module) -> torch.Tensor:
    dtype = x.dtype
    h = x.float()
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + norm.variance_epsilon)
    return norm.weight * h.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _llama(lm: nn.Module) -> nn.Module:
    """The ``LlamaForCausalLM`` itself when ``lm`` is a PEFT wrapper of one (its LoRA layers
    stay in place, so the forward below applies them)."""
    return lm.get_base_model() if hasattr(lm, "get_base_model") else lm


def rotary(lm: nn.Module, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos, sin`` of shape ``(m, 1, T, head_dim)`` for integer ``positions`` ``(m, T)``."""
    lm = _llama(lm)
    inv_freq = lm.model.rotary_emb.inv_freq.to(positions.device)  # (head_dim / 2,)
    freqs = positions.float()[..., None] * inv_freq  # (m, T, head_dim / 2)
    emb = torch.cat((freqs, freqs), dim=-1)[:, None]
    scale = getattr(lm.model.rotary_emb, "attention_scaling", 1.0)
    return emb.cos() * scale, emb.sin() * scale


def hidden_states(
    lm: nn.Module,
    tokens: torch.Tensor,
    positions: torch.Tensor,
    allowed: torch.Tensor,
) -> torch.Tensor:
    """Final hidden states ``(m, T, d)`` of ``lm`` (a ``LlamaForCausalLM``) for ``tokens``
    ``(m, T)`` at ``positions`` ``(m, T)``, where query ``i`` may attend key ``j`` iff
    ``allowed[:, i, j]`` (``(m, T, T)`` booleans; every row must allow at least itself)."""
    model = _llama(lm).model
    x = run_layers(lm, model.embed_tokens(tokens), positions, allowed)
    return _rms_norm(x, model.norm)


def run_layers(
    lm: nn.Module,
    x: torch.Tensor,
    positions: torch.Tensor,
    allowed: torch.Tensor,
    layers: slice = slice(None),
) -> torch.Tensor:
    """The residual stream ``(m, T, d)`` after the decoder ``layers`` of ``lm`` (a slice of
    them; all by default), from the stream ``x`` entering the first of them, with the
    positions and attention of `hidden_states`. The final norm is not applied."""
    lm = _llama(lm)
    cfg = lm.config
    m, t = x.shape[:2]
    heads, kv_heads = cfg.num_attention_heads, cfg.num_key_value_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    cos, sin = rotary(lm, positions)
    mask = allowed[:, None]  # (m, 1, T, T)
    for layer in lm.model.layers[layers]:
        att = layer.self_attn
        h = _rms_norm(x, layer.input_layernorm)
        q = att.q_proj(h).view(m, t, heads, head_dim).transpose(1, 2)
        k = att.k_proj(h).view(m, t, kv_heads, head_dim).transpose(1, 2)
        v = att.v_proj(h).view(m, t, kv_heads, head_dim).transpose(1, 2)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        if kv_heads != heads:
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + att.o_proj(a.transpose(1, 2).reshape(m, t, heads * head_dim))
        h = _rms_norm(x, layer.post_attention_layernorm)
        mlp = layer.mlp
        x = x + mlp.down_proj(F.silu(mlp.gate_proj(h)) * mlp.up_proj(h))
    return x


def final_norm(lm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The model's final RMSNorm of a residual stream."""
    return _rms_norm(x, _llama(lm).model.norm)


def causal_allowed(mask: torch.Tensor) -> torch.Tensor:
    """The ``allowed`` matrix of left-padded sequences with real-token ``mask`` ``(m, T)``:
    causal among real tokens; a padding query sees only itself (its output is never read)."""
    t = mask.shape[1]
    causal = torch.ones(t, t, dtype=torch.bool, device=mask.device).tril()
    allowed = causal[None] & mask[:, None, :]
    return allowed | torch.eye(t, dtype=torch.bool, device=mask.device)[None]
