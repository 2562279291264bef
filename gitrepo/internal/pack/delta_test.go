package pack

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// applyDelta is Git's patch_delta, to check the deltas this package
// writes.
func applyDelta(t *testing.T, base, delta []byte) []byte {
	t.Helper()
	size := func() int {
		n, shift := 0, 0
		for {
			c := delta[0]
			delta = delta[1:]
			n |= int(c&0x7f) << shift
			shift += 7
			if c < 0x80 {
				return n
			}
		}
	}
	if got := size(); got != len(base) {
		t.Fatalf("delta's base size: got %d, want %d", got, len(base))
	}
	want := size()
	var out []byte
	for len(delta) > 0 {
		op := delta[0]
		delta = delta[1:]
		if op&0x80 == 0 {
			if op == 0 || int(op) > len(delta) {
				t.Fatalf("bad insert of %d bytes", op)
			}
			out = append(out, delta[:op]...)
			delta = delta[op:]
			continue
		}
		var off, n int
		for i := 0; i < 7; i++ {
			if op&(1<<i) != 0 {
				v := int(delta[0])
				delta = delta[1:]
				if i < 4 {
					off |= v << (8 * i)
				} else {
					n |= v << (8 * (i - 4))
				}
			}
		}
		if n == 0 {
			n = 0x10000
		}
		if n > maxCopySize || off+n > len(base) {
			t.Fatalf("bad copy of %d bytes at %d", n, off)
		}
		out = append(out, base[off:off+n]...)
	}
	if len(out) != want {
		t.Fatalf("delta's result size: got %d, want %d", len(out), want)
	}
	return out
}

// TestAppendDelta rebuilds targets from their deltas: empty, equal,
// overlapping prefix and suffix, copies longer than 64 KB, inserts longer
// than 127 bytes, and random edits.
func TestAppendDelta(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(4)) // few symbols: long common runs
		}
		return b
	}
	big := random(200000)
	cases := [][2][]byte{
		{nil, nil},
		{[]byte("abc"), nil},
		{nil, []byte("abc")},
		{[]byte("same"), []byte("same")},
		{[]byte("aaaa"), []byte("aaaaaa")}, // prefix and suffix overlap
		{[]byte("aaaaaa"), []byte("aa")},
		{big, append(append(slices.Clone(big[:100000]), random(1000)...), big[100010:]...)},
		{big, big[:len(big)-1]},
		{big, random(300)},
	}
	for i := 0; i < 200; i++ {
		base := random(rng.IntN(100))
		target := append(append(slices.Clone(base[:rng.IntN(len(base)+1)]), random(rng.IntN(300))...), base[rng.IntN(len(base)+1):]...)
		cases = append(cases, [2][]byte{base, target})
	}
	for i, c := range cases {
		delta := appendDelta(nil, c[0], c[1])
		if got := applyDelta(t, c[0], delta); !bytes.Equal(got, c[1]) {
			t.Errorf("case %d: the delta does not rebuild the target", i)
		}
	}
}
