"""Writes python_cases.json: expected outputs computed with Python's own string semantics.

Run from this folder with Python 3 (3.11 was used): python3 gen_python_cases.py
The Go tests compare TrainSequences, Normalize, F1, Contains and ParseVerdict with these,
so Python's str.strip/splitlines/lower and re's Unicode \\s, \\d, \\w and \\b are matched
on strings built from awkward pieces (Unicode spaces and line breaks, "---", self-QA
markers, articles, Greek final sigma, dotted capital I).

build_train_sequences below is docs/seal-method.md section 1.4 written in Python; it is our
reading of the reference's rules, not the reference's code.
"""
import json
import random
import re
import string
from collections import Counter


def build_train_sequences(se, passage, title, split_newlines):
    segs = [s.strip() for s in se.split("---") if s.strip()] or [se.strip()]
    if split_newlines:
        if re.search(r"Question\s+\d+:", se) and re.search(r"Answer\s*:", se):
            pieces = re.split(r"\n(?=Question\s+\d+:)", se.strip())
            if not pieces[0].lstrip().startswith("Question"):
                pieces[0] = "Question 1: " + pieces[0].strip()
            segs = pieces
        else:
            segs = [l.strip() for s in segs for l in s.splitlines() if l.strip()]
            if len(segs) > 1 and segs[1].startswith("1."):
                segs = segs[1:]
    seqs = [f"{title}\n{s}" for s in segs]
    seqs.append(f"{title}\n{passage.strip()}")
    return seqs


def normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return white_space_fix(remove_articles(remove_punc(s.lower())))


def f1_score(prediction, ground_truth):
    p = normalize_answer(prediction).split()
    g = normalize_answer(ground_truth).split()
    common = Counter(p) & Counter(g)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(p)
    recall = 1.0 * num_same / len(g)
    return (2 * precision * recall) / (precision + recall)


def contains(pred, gold):
    return normalize_answer(gold) in normalize_answer(pred)


def verdict(reply):
    return bool(re.search(r"\byes\b", reply, re.I)) and not re.search(r"\bno\b", reply, re.I)


PIECES = [
    "Question 1:", "Question 2: ", "Question  12:", "Question\u00a03:", "Question \u0663:", "Question:",
    "question 4:", "Answer:", "Answer :", "Answer\u2028:", "answer:", "\n", "\n", "\n", "\r\n", "\r",
    "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u00a0", "\u3000",
    "\u2003", " ", " ", " ", "\t", "---", "--", "-", "1.", "1. ", "2. ", " 1.", "Sure, here:", "x", "a",
    "the", "The", "An", "an", "é", "e\u0301", "ça", "Σ", "ΟΔΟΣ", "ΌΣΟΣ.", "İstanbul", "yes", "YES",
    "No", "no", "eyes", "_yes", "yes_", "'", ",", ".", "10", "100", "–", "’", "\u200b", "cat", "sat",
    "down", "Paris", "\u0663",
]


def rand_text(rng, n):
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(n)))


def main():
    rng = random.Random(1)
    seq_cases = []
    for i in range(600):
        se = rand_text(rng, 16)
        title = rng.choice(["Super Bowl 50", "T", "Ünïcode\u00a0title", ""])
        passage = rand_text(rng, 6)
        split = i % 3 != 0
        seq_cases.append({"edit": se, "title": title, "passage": passage, "split": split,
                          "want": build_train_sequences(se, passage, title, split)})
    text_cases = []
    for _ in range(600):
        pred, gold = rand_text(rng, 10), rand_text(rng, 5)
        text_cases.append({"pred": pred, "gold": gold, "norm_pred": normalize_answer(pred),
                           "norm_gold": normalize_answer(gold), "em": normalize_answer(pred) == normalize_answer(gold),
                           "f1": f1_score(pred, gold), "contains": contains(pred, gold),
                           "verdict": verdict(pred)})
    with open("python_cases.json", "w", encoding="utf-8") as f:
        json.dump({"sequences": seq_cases, "text": text_cases}, f, ensure_ascii=True, indent=0)


if __name__ == "__main__":
    main()
