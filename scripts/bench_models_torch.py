#!/usr/bin/env python3
"""HF transformers (+ PEFT) counterpart of strata's `model_bench` on the same GPU.

Random-initialised decoders with a real model's shape; reports JSON lines:
- generate: greedy `model.generate` with KV cache, batch 1, prompt 16 tokens, 64 new tokens
  (bf16 weights), tokens/s;
- train-full / train-lora: one AdamW step (forward + backward + step) at batch × seq tokens,
  bf16 autocast over f32 weights, full fine-tuning or PEFT LoRA r8 (alpha 32) on q_proj, v_proj;
  median of timed steps after 2 warm-ups.

    python3 scripts/bench_models_torch.py --shape qwen2.5-0.5b [--batch 8 --seq 128]
"""
import argparse
import json
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

SHAPES = {
    "smollm2-135m": (LlamaConfig, LlamaForCausalLM, dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                     num_attention_heads=9, num_key_value_heads=3, vocab_size=49152, rope_theta=1e5)),
    "qwen2.5-0.5b": (Qwen2Config, Qwen2ForCausalLM, dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                     num_attention_heads=14, num_key_value_heads=2, vocab_size=151936, rope_theta=1e6)),
    "qwen2.5-1.5b": (Qwen2Config, Qwen2ForCausalLM, dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28,
                     num_attention_heads=12, num_key_value_heads=2, vocab_size=151936, rope_theta=1e6)),
}


def build(shape):
    cfg_cls, model_cls, kw = SHAPES[shape]
    torch.manual_seed(0)
    return model_cls(cfg_cls(tie_word_embeddings=True, rms_norm_eps=1e-6, **kw)).cuda()


def report(**kw):
    kw.update(impl="transformers", torch=torch.__version__, device=torch.cuda.get_device_name(0))
    print(json.dumps(kw), flush=True)


def bench_generate(args):
    model = build(args.shape).to(torch.bfloat16).eval()
    prompt = torch.arange(100, 100 + 7 * args.prompt_len, 7, device="cuda")[None, :]
    kw = dict(do_sample=False, pad_token_id=0, eos_token_id=None)
    with torch.no_grad():
        model.generate(prompt, max_new_tokens=4, min_new_tokens=4, **kw)
        torch.cuda.synchronize()
        t = time.perf_counter()
        out = model.generate(prompt, max_new_tokens=args.gen_tokens, min_new_tokens=args.gen_tokens, **kw)
        torch.cuda.synchronize()
    secs = time.perf_counter() - t
    n = out.shape[1] - prompt.shape[1]
    report(shape=args.shape, mode="generate", dtype="bf16", tokens_per_s=round(n / secs, 2), new_tokens=n, seconds=round(secs, 3))


def bench_train(args, lora):
    model = build(args.shape).train()
    if lora:
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=8, lora_alpha=32, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    vocab = SHAPES[args.shape][2]["vocab_size"]
    ids = (torch.arange(args.batch * args.seq, device="cuda") * 2654435761 % vocab).view(args.batch, args.seq)
    times = []
    torch.cuda.reset_peak_memory_stats()
    for step in range(args.steps + 2):
        torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        if step >= 2:
            times.append(time.perf_counter() - t)
    times.sort()
    med = times[len(times) // 2]
    report(shape=args.shape, mode="train-lora" if lora else "train-full", dtype="bf16-autocast",
           tokens_per_s=round(args.batch * args.seq / med, 2), step_ms=round(med * 1e3, 1), batch=args.batch, seq=args.seq,
           trainable_params=sum(p.numel() for p in params), peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", default="smollm2-135m", choices=sorted(SHAPES))
    ap.add_argument("--modes", default="generate,train-full,train-lora")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--prompt-len", type=int, default=16)
    ap.add_argument("--gen-tokens", type=int, default=64)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True
    for mode in args.modes.split(","):
        if mode == "generate":
            bench_generate(args)
        else:
            bench_train(args, lora=(mode == "train-lora"))


if __name__ == "__main__":
    main()
