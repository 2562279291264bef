package pack_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/railyard-cd/railyard/gitrepo/internal/gitcli"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack"
	"github.com/railyard-cd/railyard/gitrepo/internal/pack/packtest"
	"github.com/railyard-cd/railyard/internal/golden"
)

// writer is what pack.Writer and the oracle, packtest.FastImport, share.
type writer interface {
	Blob(content []byte) pack.ID
	BeginCommit(c pack.Commit)
	Put(path string, mode pack.Mode, content []byte)
	PutBlob(path string, mode pack.Mode, blob pack.ID)
	Delete(path string)
	EndCommit()
	Err() error
	Finish(ctx context.Context) error
	Abort()
}

// openFunc opens a writer, as pack.Open does.
type openFunc func(ctx context.Context, git *gitcli.Git, ref string, base pack.ID) (writer, error)

func openPack(ctx context.Context, git *gitcli.Git, ref string, base pack.ID) (writer, error) {
	w, err := pack.Open(ctx, git, ref, base)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func openFastImport(ctx context.Context, git *gitcli.Git, ref string, base pack.ID) (writer, error) {
	f, err := packtest.Open(ctx, git, ref, base)
	if err != nil {
		return nil, err
	}
	return f, nil
}

var (
	alice     = pack.Signature{Name: "Alice", Email: "alice@example.com"}
	committer = pack.Signature{Name: "Railyard", Email: "railyard@localhost"}
	t0        = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
)

// scriptRepo is a bare repository whose main branch a script of writer
// calls extends, batch by batch.
type scriptRepo struct {
	t       testing.TB
	g       *gitcli.Git
	open    openFunc
	tip     pack.ID
	commits int // commits written so far: their time
	batches int // batches with commits written so far: one pack each
}

func newScriptRepo(t testing.TB, open openFunc) *scriptRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	r := &scriptRepo{t: t, g: &gitcli.Git{Dir: filepath.Dir(dir)}, open: open}
	r.run("init", "--quiet", "--bare", "--initial-branch=main", dir)
	r.g = &gitcli.Git{Dir: dir}
	return r
}

// copyTo returns a copy of r in a new directory of t's, with the same
// writer: a fixture built once for several tests.
func (r *scriptRepo) copyTo(t testing.TB) *scriptRepo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	if err := os.CopyFS(dir, os.DirFS(r.g.Dir)); err != nil {
		t.Fatal(err)
	}
	c := *r
	c.t, c.g = t, &gitcli.Git{Dir: dir}
	return &c
}

// run runs git in the repository.
func (r *scriptRepo) run(args ...string) string {
	r.t.Helper()
	out, err := r.g.Run(context.Background(), args...)
	if err != nil {
		r.t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// batch writes one batch on the current tip and returns the new tip. A
// script has one call a line:
//
//	commit <message>        BeginCommit (each commit a minute later)
//	put <path> [content]    Put a file ("\n" in content is a newline)
//	link <path> <target>    Put a symlink
//	blob <name> <content>   Blob, remembered as name
//	ref <path> <name>       PutBlob of a blob named earlier in the batch
//	baseref <path> <path2>  PutBlob of the blob at path2 in the tip
//	del <path>              Delete
//	end                     EndCommit
func (r *scriptRepo) batch(script string) pack.ID {
	r.t.Helper()
	ctx := context.Background()
	w, err := r.open(ctx, r.g, "refs/heads/main", r.tip)
	if err != nil {
		r.t.Fatal(err)
	}
	before := r.commits
	r.apply(w, script)
	if err := w.Err(); err != nil {
		w.Abort()
		r.t.Fatalf("write: %v", err)
	}
	if err := w.Finish(ctx); err != nil {
		r.t.Fatal(err)
	}
	if r.commits > before {
		r.batches++
	}
	if r.commits > 0 {
		r.tip = r.id("main")
	}
	return r.tip
}

// id returns the object id rev names.
func (r *scriptRepo) id(rev string) pack.ID {
	r.t.Helper()
	id, err := pack.ParseID(strings.TrimSpace(r.run("rev-parse", "--verify", rev)))
	if err != nil {
		r.t.Fatal(err)
	}
	return id
}

// apply makes the calls of script on w.
func (r *scriptRepo) apply(w writer, script string) {
	r.t.Helper()
	refs := map[string]pack.ID{}
	for _, line := range strings.Split(script, "\n") {
		op, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		arg, content, _ := strings.Cut(rest, " ")
		content = strings.ReplaceAll(content, `\n`, "\n")
		switch op {
		case "":
		case "commit":
			at := t0.Add(time.Duration(r.commits) * time.Minute)
			author, c := alice, committer
			author.When, c.When = at, at
			w.BeginCommit(pack.Commit{Author: author, Committer: c, Message: rest + "\n"})
			r.commits++
		case "put":
			w.Put(arg, pack.ModeFile, []byte(content))
		case "link":
			w.Put(arg, pack.ModeSymlink, []byte(content))
		case "blob":
			refs[arg] = w.Blob([]byte(content))
		case "ref":
			w.PutBlob(arg, pack.ModeFile, refs[content])
		case "baseref":
			w.PutBlob(arg, pack.ModeFile, r.id(r.tip.String()+":"+content))
		case "del":
			w.Delete(arg)
		case "end":
			w.EndCommit()
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
	packs, err := filepath.Glob(filepath.Join(r.g.Dir, "objects", "pack", "*.pack"))
	if err != nil {
		r.t.Fatal(err)
	}
	return packs
}

// repoPair is the same history written by fast-import (want) and by the
// pack writer (packed).
type repoPair struct{ want, packed *scriptRepo }

func newRepoPair(t testing.TB) repoPair {
	t.Helper()
	return repoPair{want: newScriptRepo(t, openFastImport), packed: newScriptRepo(t, openPack)}
}

// copyTo copies both repositories into t's directories.
func (p repoPair) copyTo(t testing.TB) repoPair {
	t.Helper()
	return repoPair{want: p.want.copyTo(t), packed: p.packed.copyTo(t)}
}

// write writes every batch through both writers and requires the same
// tip after each: the commit ids cover every tree and commit byte.
func (p repoPair) write(t testing.TB, batches ...string) {
	t.Helper()
	for i, script := range batches {
		w := p.want.batch(script)
		if g := p.packed.batch(script); g != w {
			t.Fatalf("batch %d: pack writer's tip %s, fast-import's %s:\n%s", i+1, g, w,
				golden.FirstDifference(lsTree(p.packed, g), lsTree(p.want, w)))
		}
	}
}

// check checks the pack writer's repository: fsck, one pack per batch,
// each pack valid.
func (p repoPair) check(t testing.TB) {
	t.Helper()
	r := p.packed
	r.fsck()
	if got := len(r.packs()); got != r.batches {
		t.Errorf("packs: got %d, want one per batch (%d)", got, r.batches)
	}
	for _, pk := range r.packs() {
		r.run("verify-pack", pk)
	}
}

// sameAsFastImport writes every batch through fast-import into one
// repository and through the pack writer into another, requires the same
// tip after each, and checks the pack writer's repository. It returns the
// pack writer's repository.
func sameAsFastImport(t testing.TB, batches ...string) *scriptRepo {
	t.Helper()
	p := newRepoPair(t)
	p.write(t, batches...)
	p.check(t)
	return p.packed
}

// lsTree lists every file of commit tip with its mode and id.
func lsTree(r *scriptRepo, tip pack.ID) string {
	return r.run("ls-tree", "-r", "--full-tree", tip.String())
}

// TestPackWriterMatchesFastImport runs the edge cases of tree editing
// through both writers.
func TestPackWriterMatchesFastImport(t *testing.T) {
	t.Parallel()
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
	// Most cases start from base: it is written once, then copied.
	onBase := newRepoPair(t)
	onBase.write(t, base)
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
		{"blobs inside a commit", []string{"commit b\nput x x\nblob m manifest\nref r/m.yaml m\nblob n x\nref r/x n\nend",
			"commit c\nblob m manifest\nref s/m.yaml m\nblob o new\nref r/m.yaml o\nend"}},
		{"several batches", []string{base, "commit 2\nput dir/deep/er/two 22\nend", "commit 3\ndel a\nput a/x.yaml x\nend",
			"commit 4\nput a/sub/y.yaml y2\nend\ncommit 5\nput a/sub/y.yaml y3\ndel z\nend"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, batches := newRepoPair(t), tc.batches
			if batches[0] == base { // start from a copy of the shared base
				p, batches = onBase.copyTo(t), batches[1:]
			}
			p.write(t, batches...)
			p.check(t)
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
	t.Parallel()
	var seed strings.Builder
	seed.WriteString("commit seed\n")
	const n = 2000 // a tree of ~80 KB: copies longer than 64 KB
	for i := 0; i < n; i++ {
		fmt.Fprintf(&seed, "put big/app-%05d/version v0\nput big/app-%05d v0\n", i, i+n)
	}
	seed.WriteString("end\n")
	got := sameAsFastImport(t, seed.String(), bigTreeScript(1, 2*pack.MaxDeltaDepth+10, n), bigTreeScript(200, 20, n))

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
	if deepest != pack.MaxDeltaDepth {
		t.Errorf("longest delta chain: got %d, want %d", deepest, pack.MaxDeltaDepth)
	}
	if deltas < 2*pack.MaxDeltaDepth {
		t.Errorf("deltas: got %d, want most of the %d versions of the big tree", deltas, 2*pack.MaxDeltaDepth+30)
	}
}

// TestPackWriterRepositoryIsUsable clones the repository and pushes it to
// another one, as the exporter's push and the Git server do.
func TestPackWriterRepositoryIsUsable(t *testing.T) {
	t.Parallel()
	got := sameAsFastImport(t, "commit 1\nput a/b c\nlink l a/b\nend", "commit 2\nput a/c d\ndel l\nend\ncommit 3\nput e f\nend")
	dir := t.TempDir()
	clone := filepath.Join(dir, "clone")
	got.run("clone", "--quiet", "--no-local", got.g.Dir, clone)
	if out := (&scriptRepo{t: t, g: &gitcli.Git{Dir: clone}}).id("HEAD"); out != got.tip {
		t.Errorf("clone's HEAD: got %s, want %s", out, got.tip)
	}
	pushed := newScriptRepo(t, nil)
	got.run("push", "--quiet", pushed.g.Dir, "main")
	pushed.fsck()
	if out := pushed.id("main"); out != got.tip {
		t.Errorf("pushed main: got %s, want %s", out, got.tip)
	}
}

// TestPackWriterWritesNothingItDoesNotFinish checks that an aborted batch,
// a failed one and an empty one store no object and leave the ref alone
// (or at the base, for an empty batch, as fast-import does).
func TestPackWriterWritesNothingItDoesNotFinish(t *testing.T) {
	t.Parallel()
	r := newScriptRepo(t, openPack)
	tip := r.batch("commit 1\nput a b\nend")
	objects := r.run("count-objects", "-v")
	ctx := context.Background()
	start := func() writer {
		w, err := openPack(ctx, r.g, "refs/heads/main", tip)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}

	w := start()
	r.apply(w, "commit 2\nput a c\nend")
	w.Abort()

	w = start()
	r.apply(w, "commit 3\nput a d\nend\ncommit 4")
	missing, _ := pack.ParseID("0123456789012345678901234567890123456789")
	w.PutBlob("x", pack.ModeFile, missing)
	if err := w.Err(); err == nil || !strings.Contains(err.Error(), "blob 0123456789012345678901234567890123456789 not found") {
		t.Errorf("PutBlob of a missing blob: got error %v", err)
	}
	r.apply(w, "put b c\nend") // no-ops after the error
	if err := w.Finish(ctx); err == nil {
		t.Error("Finish after an error: got no error")
	}

	w = start()
	if err := w.Finish(ctx); err != nil {
		t.Fatal(err)
	}

	if got := r.run("count-objects", "-v"); got != objects {
		t.Errorf("objects: got\n%swant only\n%s", got, objects)
	}
	if tmp, _ := filepath.Glob(filepath.Join(r.g.Dir, "objects", "pack", "tmp_*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
	if got := r.id("main"); got != tip {
		t.Errorf("main: got %s, want %s", got, tip)
	}
}

// TestPackWriterWritesOnePackPerBatch checks that every batch with
// commits, however small, installs exactly one pack and no loose object.
func TestPackWriterWritesOnePackPerBatch(t *testing.T) {
	t.Parallel()
	r := newScriptRepo(t, openPack)
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

// TestPackWriterRejects checks the calls fast-import would refuse too.
func TestPackWriterRejects(t *testing.T) {
	t.Parallel()
	r := newScriptRepo(t, openPack)
	tip := r.batch("commit 1\nput a/b c\nend")
	tree := r.id(tip.String() + ":a")
	at := func(s pack.Signature) pack.Signature { s.When = t0; return s }
	for _, tc := range []struct {
		name string
		call func(w writer)
		want string
	}{
		{"a reference to a tree", func(w writer) { w.PutBlob("x", pack.ModeFile, tree) }, "put x: " + tree.String() + " is a tree, not a blob"},
		{"a directory mode", func(w writer) { w.Put("x", pack.ModeDir, nil) }, `put x: unsupported file mode "040000"`},
		{"a directory mode for a blob", func(w writer) { w.PutBlob("x", pack.ModeDir, tree) }, `put x: unsupported file mode "040000"`},
		{"an author with angle brackets", func(w writer) {
			w.BeginCommit(pack.Commit{Author: pack.Signature{Name: "A <b>", Email: "c", When: t0}, Committer: at(committer), Message: "m\n"})
		}, `invalid author "A <b> <c>": '<', '>' and newlines would break the commit header`},
		{"a committer with a newline", func(w writer) {
			w.BeginCommit(pack.Commit{Author: at(alice), Committer: pack.Signature{Name: "R", Email: "r\n", When: t0}, Message: "m\n"})
		}, `invalid committer "R <r\n>": '<', '>' and newlines would break the commit header`},
		{"EndCommit alone", func(w writer) { w.EndCommit() }, "EndCommit without BeginCommit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := openPack(context.Background(), r.g, "refs/heads/main", tip)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			tc.call(w)
			if err := w.Err(); err == nil || err.Error() != tc.want {
				t.Errorf("got error %v, want %s", err, tc.want)
			}
		})
	}
}
