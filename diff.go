package railyard

import (
	"fmt"
	"strings"
)

// lineDiff returns a one-hunk unified diff of two texts: the common
// leading and trailing lines are cut, the differing middle is shown as
// removed and added lines. It is linear in the size of the texts, which
// matters for manifests of megabytes.
func lineDiff(a, b string) string {
	al := splitLines(a)
	bl := splitLines(b)
	pre := 0
	for pre < len(al) && pre < len(bl) && al[pre] == bl[pre] {
		pre++
	}
	suf := 0
	for suf < len(al)-pre && suf < len(bl)-pre && al[len(al)-1-suf] == bl[len(bl)-1-suf] {
		suf++
	}
	const context = 3
	start := max(pre-context, 0)
	aEnd := min(len(al)-suf+context, len(al))
	bEnd := min(len(bl)-suf+context, len(bl))
	var s strings.Builder
	fmt.Fprintf(&s, "@@ -%d,%d +%d,%d @@\n", start+1, aEnd-start, start+1, bEnd-start)
	for _, l := range al[start:pre] {
		s.WriteString(" " + l + "\n")
	}
	for _, l := range al[pre : len(al)-suf] {
		s.WriteString("-" + l + "\n")
	}
	for _, l := range bl[pre : len(bl)-suf] {
		s.WriteString("+" + l + "\n")
	}
	for _, l := range al[len(al)-suf : aEnd] {
		s.WriteString(" " + l + "\n")
	}
	return s.String()
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}
