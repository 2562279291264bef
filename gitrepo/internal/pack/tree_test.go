package pack

import (
	"testing"
)

// TestCompareEntries checks Git's order of tree entries.
func TestCompareEntries(t *testing.T) {
	t.Parallel()
	// In Git's order: a directory "a" sorts as "a/", after "a-b" and "a.b".
	order := []struct {
		name string
		dir  bool
	}{{"a", false}, {"a-b", false}, {"a.b", true}, {"a.yaml", false}, {"a", true}, {"a0", false}, {"ab", true}, {"b", false}}
	for i := range order {
		for j := range order {
			got := compareEntries(order[i].name, order[i].dir, order[j].name, order[j].dir)
			if want := cmpInt(i, j); got != want {
				t.Errorf("compare %q (dir %v) with %q (dir %v): got %d, want %d", order[i].name, order[i].dir, order[j].name, order[j].dir, got, want)
			}
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
