import assert from "node:assert/strict";
import { syntheticExits } from "./synthetic.ts";

Deno.test("syntheticExits() is seeded and deeper exits are more accurate and more confident", () => {
  const a = syntheticExits({ samples: 4000, seed: 3 });
  assert.deepEqual(a, syntheticExits({ samples: 4000, seed: 3 }));
  assert.notDeepEqual(a.confidences, syntheticExits({ samples: 4000, seed: 4 }).confidences);
  assert.deepEqual([a.samples, a.layers, a.classes, a.confidences.length], [4000, 12, 2, 48000]);
  const acc = (k: number) => {
    let c = 0;
    for (let i = 0; i < a.samples; i++) if (a.predictions[i * 12 + k] === a.labels[i]) c++;
    return c / a.samples;
  };
  const conf = (k: number) => {
    let s = 0;
    for (let i = 0; i < a.samples; i++) s += a.confidences[i * 12 + k]!;
    return s / a.samples;
  };
  assert.ok(acc(0) < acc(3) && acc(3) <= acc(11) + 0.01, `${acc(0)} ${acc(3)} ${acc(11)}`);
  assert.ok(acc(11) > 0.78 && acc(11) < 0.88, `final accuracy ${acc(11)}`);
  assert.ok(conf(0) < conf(2) && conf(2) < conf(11), `${conf(0)} ${conf(2)} ${conf(11)}`);
  const three = syntheticExits({ samples: 10, layers: 4, classes: 3 });
  assert.ok(three.confidences.every((c) => c >= 1 / 3 && c <= 1));
  assert.throws(() => syntheticExits({ samples: 0 }), /samples must be an integer >= 1/);
});
