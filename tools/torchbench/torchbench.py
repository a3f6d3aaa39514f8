#!/usr/bin/python3
"""The PyTorch side of `seal bench --compare-torch`: a plain Llama with LoRA on all seven
projections, run on the CPU on the shapes `seal bench` measures, printing one JSON object.

Shapes: the small model takes its layer shapes from models/tiny/default/config.json (the
embedded default) with vocab 2048, as seal bench's small model does; the 1B model is
Llama-3.2-1B's shape with random bf16 weights. Each figure is the best of 1 and 2 threads
(torch.set_num_threads); each (model, threads) runs in its own child process, so that peak
memory (VmHWM, reset before loading as seal bench does) is that model's own.

  /usr/bin/python3 tools/torchbench/torchbench.py [--quick] [--skip-1b | --only small|1b] [--threads 1,2]

seal bench runs it once per model (--only), each under its own time limit (--torch-limit).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL_VOCAB = 2048  # seal bench's small model: the embedded shapes with a 2048 vocabulary

ONE_B = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
             num_attention_heads=32, num_key_value_heads=8, head_dim=64, rms_norm_eps=1e-5,
             rope_theta=500000.0, rope_scaling=dict(factor=32.0, low_freq_factor=1.0,
                                                    high_freq_factor=4.0,
                                                    original_max_position_embeddings=8192))


def small_config(path):
    with open(path) as f:
        c = json.load(f)
    keys = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta"]
    cfg = {k: c[k] for k in keys}
    cfg["vocab_size"] = SMALL_VOCAB
    cfg["rope_scaling"] = None
    return cfg


def model_classes(torch):
    nn = torch.nn
    F = torch.nn.functional

    class LoRALinear(nn.Module):
        """y = x·Wᵀ + (alpha/r)·(x·Aᵀ)·Bᵀ with W frozen (PEFT's layout and init)."""

        def __init__(self, n_in, n_out, rank, dtype):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(n_out, n_in, dtype=dtype).normal_(0, 0.02),
                                       requires_grad=False)
            self.lora_A = nn.Parameter(torch.empty(rank, n_in, dtype=dtype).uniform_(
                -1 / math.sqrt(n_in), 1 / math.sqrt(n_in)))
            self.lora_B = nn.Parameter(torch.zeros(n_out, rank, dtype=dtype))
            self.scale = 2.0  # alpha = 2r, as seal bench

        def forward(self, x):
            return F.linear(x, self.weight) + F.linear(F.linear(x, self.lora_A), self.lora_B) * self.scale

    class RMSNorm(nn.Module):
        def __init__(self, d, eps, dtype):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d, dtype=dtype), requires_grad=False)
            self.eps = eps

        def forward(self, x):
            xf = x.float()
            xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
            return xf.to(x.dtype) * self.weight

    def rope_inv_freq(c):
        hd = c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        s = c["rope_scaling"]
        if s:  # llama3 scaling
            low = s["original_max_position_embeddings"] / s["low_freq_factor"]
            high = s["original_max_position_embeddings"] / s["high_freq_factor"]
            wavelen = 2 * math.pi / inv
            smooth = (s["original_max_position_embeddings"] / wavelen - s["low_freq_factor"]) / (
                s["high_freq_factor"] - s["low_freq_factor"])
            scaled = torch.where(wavelen > low, inv / s["factor"], inv)
            mid = (wavelen <= low) & (wavelen >= high)
            inv = torch.where(mid, (1 - smooth) * inv / s["factor"] + smooth * inv, scaled)
        return inv.float()

    def rotate(x, cos, sin):
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h], x[..., h:]
        return x * cos + torch.cat((-x2, x1), dim=-1) * sin

    class Block(nn.Module):
        def __init__(self, c, rank, dtype):
            super().__init__()
            d, hd, i = c["hidden_size"], c["head_dim"], c["intermediate_size"]
            self.nh, self.nkv, self.hd = c["num_attention_heads"], c["num_key_value_heads"], hd
            L = lambda a, b: LoRALinear(a, b, rank, dtype)
            self.q_proj, self.k_proj = L(d, self.nh * hd), L(d, self.nkv * hd)
            self.v_proj, self.o_proj = L(d, self.nkv * hd), L(self.nh * hd, d)
            self.gate_proj, self.up_proj, self.down_proj = L(d, i), L(d, i), L(i, d)
            self.ln1 = RMSNorm(d, c["rms_norm_eps"], dtype)
            self.ln2 = RMSNorm(d, c["rms_norm_eps"], dtype)

        def forward(self, x, cos, sin, cache, pos):
            B, T, _ = x.shape
            h = self.ln1(x)
            q = self.q_proj(h).view(B, T, self.nh, self.hd).transpose(1, 2)
            k = self.k_proj(h).view(B, T, self.nkv, self.hd).transpose(1, 2)
            v = self.v_proj(h).view(B, T, self.nkv, self.hd).transpose(1, 2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            if cache is not None:  # KV cache preallocated [B, nkv, maxT, hd]
                cache[0][:, :, pos:pos + T] = k
                cache[1][:, :, pos:pos + T] = v
                k, v = cache[0][:, :, :pos + T], cache[1][:, :, :pos + T]
            rep = self.nh // self.nkv
            k = k.repeat_interleave(rep, dim=1)
            v = v.repeat_interleave(rep, dim=1)
            att = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
            if T > 1:
                S = k.shape[2]
                mask = torch.ones(T, S, dtype=torch.bool).tril(S - T)
                att = att.masked_fill(~mask, float("-inf"))
            att = torch.softmax(att.float(), dim=-1).to(q.dtype)
            y = (att @ v).transpose(1, 2).reshape(B, T, self.nh * self.hd)
            x = x + self.o_proj(y)
            h = self.ln2(x)
            return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))

    class Llama(nn.Module):
        def __init__(self, c, rank, dtype):
            super().__init__()
            self.c, self.dtype = c, dtype
            self.embed = nn.Parameter(torch.empty(c["vocab_size"], c["hidden_size"], dtype=dtype)
                                      .normal_(0, 0.02), requires_grad=False)  # tied lm_head
            self.layers = nn.ModuleList(Block(c, rank, dtype) for _ in range(c["num_hidden_layers"]))
            self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], dtype)
            self.inv_freq = rope_inv_freq(c)

        def rope(self, pos, T):
            t = torch.arange(pos, pos + T, dtype=torch.float32)
            f = torch.outer(t, self.inv_freq)
            e = torch.cat((f, f), dim=-1)
            return e.cos().to(self.dtype), e.sin().to(self.dtype)

        def new_cache(self, B, maxT):
            c = self.c
            shape = (B, c["num_key_value_heads"], maxT, c["head_dim"])
            return [(torch.zeros(shape, dtype=self.dtype), torch.zeros(shape, dtype=self.dtype))
                    for _ in self.layers]

        def forward(self, ids, cache=None, pos=0, last_only=False):
            x = F.embedding(ids, self.embed)
            cos, sin = self.rope(pos, ids.shape[1])
            for i, layer in enumerate(self.layers):
                x = layer(x, cos, sin, cache[i] if cache is not None else None, pos)
            x = self.norm(x)
            if last_only:
                x = x[:, -1:]
            return F.linear(x, self.embed)

    return Llama


def peak_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def status_bytes(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name):
                return int(line.split()[1]) * 1024
    return 0


def decode_rate(torch, model, batch, prompt, new, quick):
    """As seal bench: the pass of new tokens after the prompt is repeated (the cache overwritten from
    the prompt on) for at least a second and three passes, and the median pass is the figure."""
    g = torch.Generator().manual_seed(3 + batch)
    ids = torch.randint(0, model.c["vocab_size"], (batch, prompt), generator=g)
    with torch.inference_mode():
        cache = model.new_cache(batch, prompt + new)
        logits = model(ids, cache, 0, last_only=True)
        first = logits[:, -1].float().argmax(-1, keepdim=True)
        rates, begin = [], time.perf_counter()
        while len(rates) < 3 or (time.perf_counter() - begin < 1 and len(rates) < 100):
            nxt = first
            start = time.perf_counter()
            for i in range(new):
                logits = model(nxt, cache, prompt + i)
                nxt = logits[:, -1].float().argmax(-1, keepdim=True)
            rates.append(batch * new / (time.perf_counter() - start))
            if quick:
                break
        return sorted(rates)[len(rates) // 2]


def train_rate(torch, model, seqs, T):
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.0)
    g = torch.Generator().manual_seed(5)
    V = model.c["vocab_size"]
    ids = torch.randint(0, V, (seqs, T), generator=g)
    targets = torch.randint(0, V, (seqs, T), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, V), targets.view(-1))
        loss.backward()
        opt.step()

    step()  # warm-up, as seal bench
    start, steps = time.perf_counter(), 0
    while steps == 0 or (time.perf_counter() - start < 2 and steps < 20):
        step()
        steps += 1
    return steps * seqs * T / (time.perf_counter() - start)


def worker(args):
    """One model at one thread count, in this process; prints its figures as JSON."""
    import torch
    torch.set_num_threads(args.threads_one)
    torch.manual_seed(1)
    if args.model == "small":
        c, dtype, rank = small_config(args.config), torch.float32, 8
    else:
        c, dtype, rank = dict(ONE_B), torch.bfloat16, 32
        if args.quick:
            c["num_hidden_layers"] = 2
    prompt, new = (8, 4) if args.quick else (32, 32)
    seqs, T = (1, 16) if args.quick else (4, 128)
    base = status_bytes("VmRSS:")
    peak_reset()
    model = model_classes(torch)(c, rank, dtype)
    out = dict(model=args.model, threads=args.threads_one, dtype=str(dtype).replace("torch.", ""),
               rank=rank, vocab=c["vocab_size"], hidden=c["hidden_size"], layers=c["num_hidden_layers"],
               intermediate=c["intermediate_size"], heads=c["num_attention_heads"],
               kv_heads=c["num_key_value_heads"], head_dim=c["head_dim"],
               decode_prompt=prompt, decode_new=new, train_seqs=seqs, train_len=T)
    out["decode_batch1"] = decode_rate(torch, model, 1, prompt, new, args.quick)
    out["decode_batch5"] = decode_rate(torch, model, 5, prompt, new, args.quick)
    out["decode_peak_bytes"] = status_bytes("VmHWM:") - base
    out["train"] = train_rate(torch, model, seqs, T)
    out["train_peak_bytes"] = status_bytes("VmHWM:") - base
    json.dump(out, sys.stdout)


def best_of(runs):
    """Each figure's best over thread counts, with the count that gave it."""
    best = dict(runs[0])
    for k in ("decode_batch1", "decode_batch5", "train"):
        r = max(runs, key=lambda r: r[k])
        best[k], best[k + "_threads"] = r[k], r["threads"]
    r = max(runs, key=lambda r: r["train"])
    best["decode_peak_bytes"] = max(runs, key=lambda r: r["decode_batch1"])["decode_peak_bytes"]
    best["train_peak_bytes"] = r["train_peak_bytes"]
    del best["threads"]
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a few tokens (for tests), not figures to report")
    p.add_argument("--skip-1b", action="store_true", help="leave out the Llama-3.2-1B-shaped model")
    p.add_argument("--only", choices=["small", "1b"], help="measure this model alone")
    p.add_argument("--threads", default="1,2", help="thread counts to try, best of them (default 1,2)")
    p.add_argument("--config", default=os.path.join(ROOT, "models/tiny/default/config.json"),
                   help="the small model's config.json")
    p.add_argument("--model", choices=["small", "1b"], help=argparse.SUPPRESS)
    p.add_argument("--threads-one", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.model:
        return worker(args)
    import torch
    threads = [int(t) for t in args.threads.split(",") if t]
    models = []
    names = [args.only] if args.only else ["small"] + ([] if args.skip_1b else ["1b"])
    for name in names:
        runs = []
        for t in threads:
            cmd = [sys.executable, os.path.abspath(__file__), "--model", name, "--threads-one", str(t),
                   "--config", args.config] + (["--quick"] if args.quick else [])
            r = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
            runs.append(json.loads(r.stdout))
        models.append(best_of(runs))
    json.dump(dict(torch=torch.__version__, threads=threads, models=models), sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
