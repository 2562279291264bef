package gitrepo

import (
	"context"
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard"
)

// openWriterFunc opens a treeWriter, as Exporter.openWriter does.
type openWriterFunc func(ctx context.Context, g *gitCmd, ref, base string) (treeWriter, error)

// scriptRepo is a bare repository whose main branch a script of
// treeWriter calls extends, batch by batch.
type scriptRepo struct {
	t       testing.TB
	g       *gitCmd
	open    openWriterFunc
	tip     string
	commits int // commits written so far: their time
}

func newScriptRepo(t testing.TB, open openWriterFunc) *scriptRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	if err := InitBare(context.Background(), dir, "main"); err != nil {
		t.Fatal(err)
	}
	return &scriptRepo{t: t, g: &gitCmd{dir: dir}, open: open}
}

// run runs git in the repository.
func (r *scriptRepo) run(args ...string) string {
	r.t.Helper()
	out, err := r.g.run(context.Background(), args...)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// batch writes one batch on the current tip and returns the new tip. A
// script has one call a line:
//
//	commit <message>        commitHeader (each commit a minute later)
//	put <path> [content]    put a file ("\n" in content is a newline)
//	link <path> <target>    put a symlink
//	blob <name> <content>   blob, remembered as name (between commits)
//	ref <path> <name>       putRef of a blob named earlier in the batch
//	baseref <path> <path2>  putRef of the blob at path2 in the tip
//	del <path>              del
//	end                     endCommit
func (r *scriptRepo) batch(script string) string {
	r.t.Helper()
	ctx := context.Background()
	w, err := r.open(ctx, r.g, "refs/heads/main", r.tip)
	if err != nil {
		r.t.Fatal(err)
	}
	r.apply(w, script)
	if err := w.failed(); err != nil {
		w.abort()
		r.t.Fatalf("write: %v", err)
	}
	if err := w.finish(); err != nil {
		r.t.Fatal(err)
	}
	if r.commits > 0 {
		r.tip = strings.TrimSpace(r.run("rev-parse", "--verify", "main"))
	}
	return r.tip
}

// apply makes the calls of script on w.
func (r *scriptRepo) apply(w treeWriter, script string) {
	r.t.Helper()
	refs := map[string]string{}
	for _, line := range strings.Split(script, "\n") {
		op, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		arg, content, _ := strings.Cut(rest, " ")
		content = strings.ReplaceAll(content, `\n`, "\n")
		switch op {
		case "":
		case "commit":
			w.commitHeader(alice, t0.Add(time.Duration(r.commits)*time.Minute), rest+"\n")
			r.commits++
		case "put":
			w.put(arg, modeFile, []byte(content))
		case "link":
			w.put(arg, modeSymlink, []byte(content))
		case "blob":
			refs[arg] = w.blob([]byte(content))
		case "ref":
			w.putRef(arg, modeFile, refs[content])
		case "baseref":
			w.putRef(arg, modeFile, strings.TrimSpace(r.run("rev-parse", r.tip+":"+content)))
		case "del":
			w.del(arg)
		case "end":
			w.endCommit()
		default:
			r.t.Fatalf("script: unknown call %q", line)
		}
	}
}

// fsck checks the repository as strictly as Git can.
func (r *scriptRepo) fsck() {
	r.t.Helper()
	r.run("fsck", "--strict", "--no-dangling", "--no-progress")
}

// packs returns the repository's pack files.
func (r *scriptRepo) packs() []string {
	r.t.Helper()
	packs, err := filepath.Glob(filepath.Join(r.g.dir, "objects", "pack", "*.pack"))
	if err != nil {
		r.t.Fatal(err)
	}
	return packs
}

// sameAsFastImport writes every batch through fast-import into one
// repository and through the pack writer into another, and requires the
// same tip after each: the commit ids cover every tree and commit byte.
// It returns the pack writer's repository.
func sameAsFastImport(t *testing.T, batches ...string) *scriptRepo {
	t.Helper()
	want := newScriptRepo(t, openFastImportWriter)
	packed := newScriptRepo(t, openPackWriter)
	for i, script := range batches {
		w := want.batch(script)
		if g := packed.batch(script); g != w {
			t.Fatalf("batch %d: pack writer's tip %s, fast-import's %s:\n%s", i+1, g, w,
				lineDiffForTest(dumpTree(t, want.g.dir, w, ""), dumpTree(t, packed.g.dir, g, "")))
		}
	}
	packed.fsck()
	if len(packed.packs()) != len(batches) {
		t.Errorf("packs: got %d, want one per batch (%d)", len(packed.packs()), len(batches))
	}
	for _, p := range packed.packs() {
		packed.run("verify-pack", p)
	}
	return packed
}

// TestPackWriterMatchesFastImport runs the edge cases of tree editing
// through both writers.
func TestPackWriterMatchesFastImport(t *testing.T) {
	base := `commit base
		put a.yaml A
		put a-b ab
		put a/x.yaml x
		put a/sub/y.yaml y
		put dir/one 1
		put dir/deep/er/two 2
		link env/version ../../releases/1
		put empty
		put z/only only
		end`
	for _, tc := range []struct {
		name    string
		batches []string
	}{
		{"first commit without parent", []string{"commit first\nput f hello\\n\nend"}},
		{"empty first commit", []string{"commit nothing\nend"}},
		{"base only", []string{base}},
		{"empty commit on a base", []string{base, "commit nothing\nend"}},
		{"same content again", []string{base, "commit again\nput a.yaml A\nlink env/version ../../releases/1\nend"}},
		{"delete a directory", []string{base, "commit d\ndel dir\nend"}},
		{"delete a nested directory", []string{base, "commit d\ndel dir/deep\nend"}},
		{"delete absent paths", []string{base, "commit d\ndel nothing\ndel a/none\ndel none/at/all\nend"}},
		{"delete below a file", []string{base, "commit d\ndel a.yaml/x\ndel empty/y/z\nend"}},
		{"delete the root's files", []string{base, "commit d\ndel a.yaml\ndel a-b\ndel empty\nend"}},
		{"emptying a directory", []string{base, "commit d\ndel dir/one\nend\ncommit e\ndel dir/deep/er/two\nend"}},
		{"emptying everything", []string{base, "commit d\ndel a\ndel a.yaml\ndel a-b\ndel dir\ndel env\ndel empty\ndel z/only\nend"}},
		{"file replaced by a directory", []string{base, "commit r\nput a.yaml/inner i\nput empty/x/y xy\nend"}},
		{"directory replaced by a file", []string{base, "commit r\nput a now-a-file\nput dir/deep deep-file\nend"}},
		{"directory to file and back in one commit", []string{base, "commit r\nput a file\nput a/new n\nend"}},
		{"put into a deleted directory", []string{base, "commit r\ndel dir\nput dir/deep/er/three 3\nend"}},
		{"put then delete in one commit", []string{base, "commit r\nput n/m/o x\ndel n/m\nput p q\nend"}},
		{"names that sort differently as trees", []string{
			"commit s\nput a.b 1\nput a-b 2\nput a0 3\nput a/x 4\nput a_ 5\nput a 6\nend",
			"commit s\nput a/y 7\nput a.b/z 8\nput a-b/w 9\nend",
			"commit s\nput a.b x\nput a z\nput ab/c d\nput a-/x y\nend"}},
		{"symlinks and empty files", []string{"commit s\nlink l target\nlink d/l ../x\nput e\nput d/e\nend",
			"commit s\nput l now-a-file\nlink e target\nend"}},
		{"blob references", []string{"blob m manifest\\n\ncommit b\nput x x\nref r/m.yaml m\nref r/again m\nend",
			"blob n other\ncommit b\nbaseref copy/m.yaml r/m.yaml\nref r/m.yaml n\nend"}},
		{"several batches", []string{base, "commit 2\nput dir/deep/er/two 22\nend", "commit 3\ndel a\nput a/x.yaml x\nend",
			"commit 4\nput a/sub/y.yaml y2\nend\ncommit 5\nput a/sub/y.yaml y3\ndel z\nend"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sameAsFastImport(t, tc.batches...)
		})
	}
}

// bigTreeScript is a batch of commits that each change one entry of a
// directory of n files, at positions spread over it.
func bigTreeScript(first, commits, n int) string {
	var b strings.Builder
	for c := first; c < first+commits; c++ {
		fmt.Fprintf(&b, "commit change %d\n", c)
		fmt.Fprintf(&b, "put big/app-%05d/version v%d\n", (c*7919)%n, c)
		fmt.Fprintf(&b, "put big/app-%05d v%d\n", (c*104729)%n+n, c) // files among directories
		b.WriteString("end\n")
	}
	return b.String()
}

// TestPackWriterDeltaChains changes one big tree in every commit, beyond
// the delta depth cap and over several batches, and checks the deltas.
func TestPackWriterDeltaChains(t *testing.T) {
	var seed strings.Builder
	seed.WriteString("commit seed\n")
	const n = 2000 // a tree of ~80 KB: copies longer than 64 KB
	for i := 0; i < n; i++ {
		fmt.Fprintf(&seed, "put big/app-%05d/version v0\nput big/app-%05d v0\n", i, i+n)
	}
	seed.WriteString("end\n")
	got := sameAsFastImport(t, seed.String(), bigTreeScript(1, 2*maxDeltaDepth+10, n), bigTreeScript(200, 20, n))

	chains := regexp.MustCompile(`(?m)^chain length = (\d+): (\d+) objects?$`)
	deepest, deltas := 0, 0
	for _, p := range got.packs() {
		out := got.run("verify-pack", "-v", p)
		for _, m := range chains.FindAllStringSubmatch(out, -1) {
			depth, _ := strconv.Atoi(m[1])
			count, _ := strconv.Atoi(m[2])
			deepest, deltas = max(deepest, depth), deltas+count
		}
	}
	if deepest != maxDeltaDepth {
		t.Errorf("longest delta chain: got %d, want %d", deepest, maxDeltaDepth)
	}
	if deltas < 2*maxDeltaDepth {
		t.Errorf("deltas: got %d, want most of the %d versions of the big tree", deltas, 2*maxDeltaDepth+30)
	}
}

// TestPackWriterRepositoryIsUsable clones the repository and pushes it to
// another one, as the exporter's push and the Git server do.
func TestPackWriterRepositoryIsUsable(t *testing.T) {
	got := sameAsFastImport(t, "commit 1\nput a/b c\nlink l a/b\nend", "commit 2\nput a/c d\ndel l\nend\ncommit 3\nput e f\nend")
	dir := t.TempDir()
	clone := filepath.Join(dir, "clone")
	got.run("clone", "--quiet", "--no-local", got.g.dir, clone)
	if out := (&scriptRepo{t: t, g: &gitCmd{dir: clone}}).run("rev-parse", "HEAD"); strings.TrimSpace(out) != got.tip {
		t.Errorf("clone's HEAD: got %s, want %s", out, got.tip)
	}
	other := filepath.Join(dir, "other.git")
	if err := InitBare(context.Background(), other, "main"); err != nil {
		t.Fatal(err)
	}
	got.run("push", "--quiet", other, "main")
	pushed := &scriptRepo{t: t, g: &gitCmd{dir: other}}
	pushed.fsck()
	if out := pushed.run("rev-parse", "main"); strings.TrimSpace(out) != got.tip {
		t.Errorf("pushed main: got %s, want %s", out, got.tip)
	}
}

// TestPackWriterWritesNothingItDoesNotFinish checks that an aborted batch,
// a failed one and an empty one store no object and leave the ref alone
// (or at the base, for an empty batch, as fast-import does).
func TestPackWriterWritesNothingItDoesNotFinish(t *testing.T) {
	open := openPackWriter
	r := newScriptRepo(t, open)
	tip := r.batch("commit 1\nput a b\nend")
	objects := r.run("count-objects", "-v")
	ctx := context.Background()
	start := func() treeWriter {
		w, err := open(ctx, r.g, "refs/heads/main", tip)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	w := start()
	r.apply(w, "commit 2\nput a c\nend")
	w.abort()

	w = start()
	r.apply(w, "commit 3\nput a d\nend\ncommit 4")
	w.putRef("x", modeFile, "0123456789012345678901234567890123456789")
	if err := w.failed(); err == nil || !strings.Contains(err.Error(), "blob 0123456789012345678901234567890123456789 not found") {
		t.Errorf("putRef of a missing blob: got error %v", err)
	}
	r.apply(w, "put b c\nend") // no-ops after the error
	if err := w.finish(); err == nil {
		t.Error("finish after an error: got no error")
	}

	w = start()
	if err := w.finish(); err != nil {
		t.Fatal(err)
	}

	if got := r.run("count-objects", "-v"); got != objects {
		t.Errorf("objects: got\n%swant only\n%s", got, objects)
	}
	if tmp, _ := filepath.Glob(filepath.Join(r.g.dir, "objects", "pack", "tmp_*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if got := strings.TrimSpace(r.run("rev-parse", "main")); got != tip {
		t.Errorf("main: got %s, want %s", got, tip)
	}
}

// TestPackWriterWritesOnePackPerBatch checks that every batch with
// commits, however small, installs exactly one pack and no loose object.
func TestPackWriterWritesOnePackPerBatch(t *testing.T) {
	r := newScriptRepo(t, openPackWriter)
	r.batch("commit small\nput a b\nend")
	r.batch("commit two\nput a c\nend\ncommit three\nput d e\nend")
	if got := r.packs(); len(got) != 2 {
		t.Errorf("got packs %v, want two", got)
	}
	if out := r.run("count-objects"); !strings.HasPrefix(out, "0 objects") {
		t.Errorf("got %q, want no loose objects", out)
	}
	r.fsck()
}

// TestPackIndexMatchesIndexPack checks the index against the one Git
// computes from the pack, with and without 64-bit offsets.
func TestPackIndexMatchesIndexPack(t *testing.T) {
	dir := t.TempDir()
	p, err := createPackFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &packWriter{pack: p, h: sha1.New(), versions: map[string]*treeVersion{}}
	for i := 0; i < 300; i++ {
		w.writeBlob([]byte(strings.Repeat(fmt.Sprintf("object %d\n", i), i)))
	}
	for i := 0; i < 60; i++ {
		n := &treeNode{dirty: true}
		for j := 0; j <= 40; j++ {
			n.set(fmt.Sprintf("f%03d", j), 0o100644, w.hashObject("blob", []byte(strconv.Itoa(i*j))), nil)
		}
		if err := w.writeTree(n, "t"); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := p.complete()
	if err != nil {
		t.Fatal(err)
	}
	g := &gitCmd{dir: dir}
	for _, large := range []int64{maxOffset32, 5000} {
		var mine strings.Builder
		if err := writeIndex(&mine, p.objs, sum, large); err != nil {
			t.Fatal(err)
		}
		idx := filepath.Join(dir, fmt.Sprintf("git-%d.idx", large))
		if _, err := g.run(context.Background(), "index-pack", fmt.Sprintf("--index-version=2,%d", large), "-o", idx, p.f.Name()); err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(idx)
		if err != nil {
			t.Fatal(err)
		}
		if mine.String() != string(want) {
			t.Errorf("index with 64-bit offsets above %d differs from git index-pack's (%d bytes, want %d)", large, mine.Len(), len(want))
		}
	}
}

// TestSafePath checks safePath against the regular expression it
// implements.
func TestSafePath(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*$`)
	paths := []string{"", "a", "a/b", "a//b", "/a", "a/", ".a", "a/.b", "a/..", "..", "-a", "a/-b", "a.b-c_d/E9", "_x", "a b", "a\\b", "a/\x00", "é"}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "aZ09._-/ \\"
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(8))
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		paths = append(paths, string(b))
	}
	for _, p := range paths {
		if got, want := safePath(p), re.MatchString(p); got != want {
			t.Errorf("safePath(%q): got %v, want %v", p, got, want)
		}
	}
}

// TestPackWriterRejects checks the calls fast-import would refuse too.
func TestPackWriterRejects(t *testing.T) {
	r := newScriptRepo(t, openPackWriter)
	tip := r.batch("commit 1\nput a/b c\nend")
	tree := strings.TrimSpace(r.run("rev-parse", tip+":a"))
	for _, tc := range []struct {
		name string
		call func(w treeWriter)
		want string
	}{
		{"a reference that is no id", func(w treeWriter) { w.putRef("x", modeFile, ":1") }, `put x: invalid blob reference ":1"`},
		{"a reference to a tree", func(w treeWriter) { w.putRef("x", modeFile, tree) }, "put x: " + tree + " is a tree, not a blob"},
		{"a directory mode", func(w treeWriter) { w.put("x", "040000", nil) }, `put x: unsupported file mode "040000"`},
		{"an author with angle brackets", func(w treeWriter) { w.commitHeader(railyard.Actor{Name: "A <b>", Email: "c"}, t0, "m\n") }, `invalid author "A <b> <c>": '<', '>' and newlines would break the commit header`},
		{"endCommit alone", func(w treeWriter) { w.endCommit() }, "endCommit without commitHeader"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := openPackWriter(context.Background(), r.g, "refs/heads/main", tip)
			if err != nil {
				t.Fatal(err)
			}
			defer w.abort()
			tc.call(w)
			if err := w.failed(); err == nil || err.Error() != tc.want {
				t.Errorf("got error %v, want %s", err, tc.want)
			}
		})
	}
}
