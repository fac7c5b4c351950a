// roi-editor.js's pure helpers (no browser, no stack): the saved roi_areas the cameras API returns
// (a list, the same as a JSON string, or absent) become the editor's areas; anything else is
// refused (null) rather than guessed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_AREAS, parseAreas, sameAreas } from '../../html/js/roi-editor.js';

const a = { x: 64, y: 36, width: 256, height: 180 };

test('saved roi_areas as a list, as a string, or absent', () => {
    assert.deepEqual(parseAreas([a]), [a]);
    assert.deepEqual(parseAreas(JSON.stringify([a])), [a]);
    assert.deepEqual(parseAreas(undefined), []);
    assert.deepEqual(parseAreas(''), []);
    assert.deepEqual(parseAreas([]), []);
    // keys other than the rectangle's are dropped
    assert.deepEqual(parseAreas([{ ...a, label: 'door' }]), [a]);
});

test('what is not a list of areas is refused', () => {
    for (const bad of ['[{', '{}', 7, [{ x: 1, y: 2, width: 3 }], [{ ...a, x: -1 }], [{ ...a, width: 1.5 }],
        [null], Array(MAX_AREAS + 1).fill(a)]) {
        assert.equal(parseAreas(bad), null, JSON.stringify(bad));
    }
});

test('sameAreas compares the rectangles in order', () => {
    const b = { x: 0, y: 0, width: 10, height: 10 };
    assert.ok(sameAreas([a, b], [{ ...a }, { ...b }]));
    assert.ok(!sameAreas([a, b], [b, a]));
    assert.ok(!sameAreas([a], [a, b]));
    assert.ok(sameAreas([], []));
});
