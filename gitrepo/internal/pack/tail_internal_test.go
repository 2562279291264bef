package pack

import "testing"

// TestKeepTail checks when a tail is continued: while it is at most
// tailSlack plus 1.5 times the bytes of the trees a batch writes.
func TestKeepTail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tail, touched int64
		want          bool
	}{
		{0, 0, true},
		{tailSlack, 0, true},
		{tailSlack + 1, 0, false},
		{tailSlack + 3<<20, 2 << 20, true}, // 5,000 applications: 2 MiB of trees an event
		{tailSlack + 3<<20 + 1, 2 << 20, false},
		{1 << 20, 40 << 10, false}, // 100 applications: sealed past 316 KiB
	} {
		if got := keepTail(c.tail, c.touched); got != c.want {
			t.Errorf("keepTail(%d, %d) = %v, want %v", c.tail, c.touched, got, c.want)
		}
	}
}
