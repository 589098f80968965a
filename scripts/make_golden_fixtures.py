#!/usr/bin/env python3
"""Golden fixtures for strata-models: tiny random-initialised HF models and their logits.

Builds small LLaMA (untied and tied, like SmolLM2), Qwen2 (QKV biases, GQA) and T5 (v1.0 ReLU
and v1.1 gated-GELU) models with transformers, in float32, and writes for each one a directory

    <out>/<name>/config.json, model.safetensors    (save_pretrained, HF key names)
    <out>/<name>/golden.safetensors                 input ids, attention mask, logits,
                                                    and greedy continuations

Rust tests load the model with strata's loader, run the same ids, and must match the logits.
Run once where transformers is installed (e.g. the GPU machine); CPU is fine:

    python3 scripts/make_golden_fixtures.py OUT_DIR
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          T5Config, T5ForConditionalGeneration)
import transformers

VOCAB = 96


def scale_init(model, std):
    """HF's default init (std 0.02) gives near-uniform logits; larger weights test more."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or "layer_norm" in name:
                p.uniform_(0.5, 1.5)
            elif name.endswith("bias"):
                p.normal_(0.0, 0.1)
            else:
                p.normal_(0.0, std)


def decoder_batch():
    # Two sequences, the second right-padded (mask 0) after 5 tokens; ids avoid 0 (pad).
    ids = torch.tensor([[5, 17, 42, 8, 91, 33, 60, 12],
                        [7, 3, 88, 19, 54, 0, 0, 0]], dtype=torch.long)
    mask = (torch.arange(8)[None, :] < torch.tensor([[8], [5]])).long()
    return ids, mask


def save(out, name, model, tensors, extra):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    model.save_pretrained(d, safe_serialization=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(d, "golden.safetensors"))
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump(dict(transformers=transformers.__version__, torch=torch.__version__, **extra), f, indent=1)
    print(name, {k: tuple(v.shape) for k, v in tensors.items()}, flush=True)


def decoder(out, name, cls, cfg):
    torch.manual_seed(0)
    model = cls(cfg).float().eval()
    scale_init(model, 0.08)
    ids, mask = decoder_batch()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
        prompt = ids[:1, :4]
        gen = model.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=6,
                             do_sample=False, eos_token_id=None, pad_token_id=0)
    save(out, name, model, dict(input_ids=ids.int(), attention_mask=mask.int(), logits=logits,
                                 greedy_prompt=prompt.int(), greedy_output=gen.int()),
         dict(note="logits at padded positions are not meaningful; compare where mask = 1"))


def t5(out, name, ff):
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=VOCAB, d_model=48, d_kv=12, d_ff=80, num_layers=2, num_decoder_layers=2,
                   num_heads=4, relative_attention_num_buckets=8, relative_attention_max_distance=20,
                   feed_forward_proj=ff, tie_word_embeddings=(ff == "relu"), dropout_rate=0.0,
                   decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
    model = T5ForConditionalGeneration(cfg).float().eval()
    scale_init(model, 0.15)
    ids, mask = decoder_batch()
    dec = torch.tensor([[0, 9, 23, 4, 77], [0, 15, 2, 0, 0]], dtype=torch.long)
    dec_mask = (torch.arange(5)[None, :] < torch.tensor([[5], [3]])).long()
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec,
                       decoder_attention_mask=dec_mask).logits
        gen = model.generate(ids[:1], attention_mask=mask[:1], max_new_tokens=6, do_sample=False,
                             eos_token_id=None)
    save(out, name, model, dict(input_ids=ids.int(), attention_mask=mask.int(), decoder_input_ids=dec.int(),
                                 decoder_attention_mask=dec_mask.int(), logits=logits,
                                 greedy_output=gen.int()),
         dict(feed_forward_proj=ff))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "golden"
    common = dict(vocab_size=VOCAB, hidden_size=64, intermediate_size=112, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                  rms_norm_eps=1e-5, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    jobs = [
        lambda: decoder(out, "llama", LlamaForCausalLM, LlamaConfig(rope_theta=10000.0, tie_word_embeddings=False, **common)),
        lambda: decoder(out, "llama_tied", LlamaForCausalLM, LlamaConfig(rope_theta=100000.0, tie_word_embeddings=True, **common)),
        lambda: decoder(out, "qwen2", Qwen2ForCausalLM, Qwen2Config(rope_theta=1000000.0, tie_word_embeddings=False, **common)),
        lambda: t5(out, "t5_v1_0", "relu"),
        lambda: t5(out, "t5_v1_1", "gated-gelu"),
    ]
    failed = 0
    for job in jobs:
        try:
            job()
        except Exception as e:  # keep going: one broken fixture must not lose the others
            failed += 1
            print("FAILED:", repr(e), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
