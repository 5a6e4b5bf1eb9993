#!/usr/bin/python3
"""Check painterc's rewrites against torch: for each of the paper's strategies
(painterc defaults for T=16: N=4, middle 5-11), rewrite models/painter-16/model.onnx
with bin/painterc, run it on ONNX Runtime (painterc run) on the reference feed,
and compare with the torch model whose layer list was edited the same way.

    /usr/bin/python3 scripts/strategy_check.py   (needs build/train/model.pt, bin/painterc, make ort)
"""
import sys, os, subprocess, numpy as np, torch
sys.path.insert(0, 'scripts')
import export as E
torch.set_num_threads(1)
m = E.load('build/train')
ids = torch.from_numpy(np.load('models/painter-16/testdata/model.in.input_ids.npy'))
mask = torch.from_numpy(np.load('models/painter-16/testdata/model.in.attention_mask.npy'))
lo, hi = 5, 12  # painterc's default middle for T=16, N=4
mid = list(range(lo, hi)); first = list(range(lo)); last = list(range(hi, 16))
one = lambda xs: [[i] for i in xs]
plans = {
  'skip': one(first + last),
  'reverse': one(first + mid[::-1] + last),
  'middle-repeat': one(first + [8] * len(mid) + last),
  'parallel': one(first) + [mid] + one(last),
  'looped-parallel': one(first) + [mid] * 3 + one(last),
}
os.makedirs('build/strategy_check', exist_ok=True)
for name, plan in plans.items():
    m.model.plan = plan
    with torch.no_grad():
        ref = m(ids, mask).numpy()
    out = f'build/strategy_check/{name}.onnx'
    subprocess.run(['bin/painterc', f'--pass={name}', '-q', 'models/painter-16/model.onnx', '-o', out], check=True)
    subprocess.run(['bin/painterc', 'run', out, '--threads', '1', '--input', 'input_ids=models/painter-16/testdata/model.in.input_ids.npy',
                    '--input', 'attention_mask=models/painter-16/testdata/model.in.attention_mask.npy', '--out', f'build/strategy_check/{name}'], check=True, capture_output=True)
    got = np.load(f'build/strategy_check/{name}/logits.npy')
    print(f'{name:16s}: painterc+ORT vs torch module-list edit max|diff| {np.abs(got - ref).max():.3g}')
