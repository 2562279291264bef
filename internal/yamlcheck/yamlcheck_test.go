package yamlcheck

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// referenceManifestYAML is the full check written as plainly as possible,
// the oracle of the fast path: decode every document into a yaml.Node and
// compare every two keys of each mapping the way yaml.v3 does when it
// decodes into a map (same kind, same value). A panic inside yaml.v3 is
// reported as an error, so that a fuzz failure names the input rather
// than crashing.
func referenceManifestYAML(manifest string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("yaml.v3 panicked: %v", v)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := referenceDuplicateKeys(&n); err != nil {
			return err
		}
	}
}

// referenceDuplicateKeys compares every pair of scalar or alias keys of
// every mapping below n, in document order.
func referenceDuplicateKeys(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		for j := 0; j < len(n.Content); j += 2 {
			kj := n.Content[j]
			for i := 0; i < j; i += 2 {
				ki := n.Content[i]
				if (ki.Kind == yaml.ScalarNode || ki.Kind == yaml.AliasNode) && ki.Kind == kj.Kind && ki.Value == kj.Value {
					return fmt.Errorf("yaml: line %d: mapping key %q already defined at line %d", kj.Line, kj.Value, ki.Line)
				}
			}
		}
	}
	if n.Kind == yaml.AliasNode {
		return nil
	}
	for _, c := range n.Content {
		if err := referenceDuplicateKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// deploymentManifest is a typical application manifest: a ConfigMap with
// block literals, a Deployment and a Service, as a Helm chart or
// Kustomize renders them.
const deploymentManifest = `# Source: checkout/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: checkout-config
  namespace: payments
  labels:
    app.kubernetes.io/name: checkout
    app.kubernetes.io/instance: checkout-production
    app.kubernetes.io/version: "1.42.0"
    helm.sh/chart: checkout-3.1.4
data:
  LOG_LEVEL: info
  FEATURE_FLAGS: "fast-checkout,new-cart"
  application.yaml: |
    server:
      port: 8080
      shutdown: graceful

    spring:
      datasource:
        url: jdbc:postgresql://db.payments.svc:5432/checkout
        hikari:
          maximum-pool-size: 20
  nginx.conf: |-
    upstream app {
        server 127.0.0.1:8080;
    }
    server {
        listen 80;
        location / {
            proxy_pass http://app;
        }
    }
---
# Source: checkout/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  namespace: payments
  labels:
    app.kubernetes.io/name: checkout
    app.kubernetes.io/instance: checkout-production
  annotations:
    deployment.kubernetes.io/revision: "17"
    railyard.dev/source-commit: 3f9a1c2
spec:
  replicas: 3
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app.kubernetes.io/name: checkout
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        app.kubernetes.io/name: checkout
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: '9090'
        checksum/config: 9c1b4f0e2d7a8b3c5e6f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d
    spec:
      serviceAccountName: checkout
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
      containers:
      - name: checkout
        image: registry.example.com/payments/checkout:1.42.0
        imagePullPolicy: IfNotPresent
        args: ["--config", "/etc/checkout/application.yaml", --verbose]
        ports:
        - name: http
          containerPort: 8080
          protocol: TCP
        - name: metrics
          containerPort: 9090
        env:
        - name: JAVA_OPTS
          value: "-Xms512m -Xmx1024m -XX:+UseG1GC"
        - name: DB_PASSWORD
          valueFrom:
            secretKeyRef:
              name: checkout-db
              key: password
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: GREETING
          value: 'it''s "quoted"' # a comment after a value
        resources:
          limits:
            cpu: "1"
            memory: 1Gi
          requests:
            cpu: 250m
            memory: 512Mi
        livenessProbe:
          httpGet:
            path: /healthz
            port: http
          initialDelaySeconds: 30
          periodSeconds: 10
        readinessProbe:
          exec:
            command:
            - sh
            - -c
            - curl -fsS http://localhost:8080/ready || exit 1
        volumeMounts:
        - name: config
          mountPath: /etc/checkout
          readOnly: true
      - name: proxy
        image: nginx:1.27-alpine
        securityContext: {}
        volumeMounts: []
      volumes:
      - name: config
        configMap:
          name: checkout-config
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
  namespace: payments
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: checkout
  ports:
    - name: http
      port: 80
      targetPort: http
    - name: metrics
      port: 9090
      targetPort: 9090
`

// loadtestManifest builds a manifest shaped like cmd/railyard-loadtest's:
// a ConfigMap header, then lines of "  kNNNNN: v<random>" padded to size
// bytes.
func loadtestManifest(size int, seed uint64) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	rng := rand.New(rand.NewPCG(seed, 0))
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\n  labels:\n    app.kubernetes.io/version: \"7\"\ndata:\n  environment: production\n  image: registry.example.com/checkout:7\n")
	for l := 0; b.Len() < size-64; l++ {
		line := fmt.Sprintf("  k%05d: v", l)
		b.WriteString(line)
		for range 64 - len(line) - 1 {
			b.WriteByte(alphabet[rng.IntN(len(alphabet))])
		}
		b.WriteByte('\n')
	}
	b.WriteString("  pad: ")
	for b.Len() < size-1 {
		b.WriteByte('x')
	}
	b.WriteByte('\n')
	return b.String()
}

// httpBenchManifest is the shape of the manifest of http/bench_test.go: a
// ConfigMap padded with double-quoted values.
func httpBenchManifest(env string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: checkout\n  namespace: %s\ndata:\n", env)
	for i := 0; b.Len() < 10<<10; i++ {
		fmt.Fprintf(&b, "  key%04d: \"value %04d for the %s environment, padded to a realistic length\"\n", i, i, env)
	}
	return b.String()
}

// fastPathAccepts are inputs the fast path must accept by itself.
var fastPathAccepts = []string{
	"",
	"\n\n",
	"   \n",
	"# only a comment\n",
	"---\n",
	"---\n---\n",
	"--- # comment\na: 1\n",
	"a: 1",
	"a: 1\n",
	"a: 1   \nb: two words  \n",
	"a:\n",
	"a:\nb:\n",
	"a: 1\n...\n",
	"a: 1\n... # end\n...\n# c\n---\nb: 2\n",
	"---\n...\n",
	"scalar\n",
	"\"a quoted document\"\n",
	"'single' # c\n",
	"[]\n",
	"a: 1\n---\nb: 2\n---\n- x\n",
	"  a: 1\n  b: 2\n",
	"a:\n  b:\n    c: d\n  e: f\ng: h\n",
	"a: b # comment\nc: d#not-a-comment\n",
	"a:   # comment\n  b: c\n",
	"image: nginx:1.27\nurl: http://example.com:8080/path?q=1#frag\n",
	"a: b,c ] } [x\n",
	"a: -1\nb: --flag\nc: ~\nd: 50%\ne: 1.5e3\nf: true\ng: null\n",
	"a: x-y:z\n",
	"a: 'it''s'\nb: \"say \\\"hi\\\"\\n\\t\\\\ \\u00e9 \\x41 \\U0001F600 \\0\"\n",
	"\"quoted key\": 1\n'other key': 2\n\"\": empty\n",
	"\"a\":\n  b: 1\n",
	"- a\n- b\n",
	"-\n- \n-   # c\n",
	"- a: 1\n  b: 2\n- a: 3\n",
	"- name: x\n  env:\n  - name: A\n    value: b\n  - name: C\n  ports:\n    - 80\n",
	"containers:\n- name: x\n  image: y\nnext: 1\n",
	"a:\n- x\n-\n  b: 1\n",
	"a:\n  - x\n  -\n    - y\n",
	"key:\n# comment between\n  nested: 1\n",
	"a:\n    # deep comment\n  b: 1\n# root comment\nc: 1\n",
	"a: |\n  line 1\n    more indented\n\n  line 3\nb: 1\n",
	"a: >\n  folded\n  text\n\nb: 1\n",
	"a: |-\n  x\nb: |+\n  y\n\nc: >2\n   three\n  two\nd: |2-\n  x\ne: |-1\n x\n",
	"a: |\nb: 1\n",
	"a: |\n",
	"a: |\n   \nb: 1\n",
	"a: |\n\n\n  x\n",
	"a: |\n  x\n  \n     \n  y\n",
	"a: | # comment\n  # not a comment\n  x\n",
	"a: |\n  tab\tinside\n",
	"a: |\n  ---\n  ...\n  - x\n  k: v: w\n  \"unterminated\n  &a *b !c %d\n",
	"a: |\n  x\n# comment ends it\nb: 1\n",
	"- |\n  x\n- >-\n  y\n- k: |\n    z\n",
	"a:\n- |\n  x\n",
	"a: {}\nb: []\nc: [ ]\nd: { }\n",
	"a: [x, y.z, \"q r\", 'single', -c, /path, 8080]\n",
	"a: [\"sh\", \"-c\", \"echo hi\"]\n",
	"a: é ü 中文 😀\nb: \"é\"\n# café\n",
	"a: \u00a0\n",
	"x.y/z_w-v: 1\n_a: 1\n.dockerconfigjson: e30=\n/path: 1\n0: 1\n",
	"a:\n  b:\n  c:\n",
	"a: 1\nb: 1\nc:\n  a: 2\n  b: 2\nd:\n- a: 3\n  b: 3\n- a: 4\n", // the same keys in different mappings
	deploymentManifest,
	loadtestManifest(10<<10, 1),
	httpBenchManifest("production"),
}

// fastPathRejects are tricky inputs the fast path must leave to yaml.v3,
// either because yaml.v3 rejects them (valid false) or because they are
// outside what the fast path follows.
var fastPathRejects = []struct {
	in    string
	valid bool // what yaml.v3 says
}{
	// yaml.v3 rejects these.
	{"a: b: c\n", false},
	{"a: b:\n", false},
	{"a:\n  b: 1\n c: 2\n", false},
	{"  a: 1\nb: 2\n", false},
	{"a: 1\n- b\n", false},
	{"- a\nb: 1\n", false},
	{"a:\n  - x\n  b: 1\n", false},
	{"a: - b\n", false},
	{"a: \"unterminated\n", false},
	{"a: 'unterminated\n", false},
	{"a: \"\\/\"\n", false},
	{"a: \"\\q\"\n", false},
	{"a: \"\\x4\"\n", false},
	{"a: \"\\uD800\"\n", false},
	{"a: \"\\U00110000\"\n", false},
	{"a: \"x\" y\n", false},
	{"a: |0\n  x\n", false},
	{"a: |x\n  x\n", false},
	{"a: |\n\n  \n x\n", false},
	{"a: |\n   \n  x\n", false},
	{"a: |2\n x\n", false},
	{"a: |\n  x\n y\n", false},
	{"a: 1\n...\nb: 2\n", false},
	{"...\n", false},
	{"a: [x, y\n", false},
	{"a: [x,, y]\n", false},
	{"a: *unknown\n", false},
	{"a: @x\n", false},
	{"a: `x\n", false},
	{"\ta: 1\n", false},
	{"a:\n\tb: 1\n", false},
	{"a: 1\x00\n", false},
	{"a: 1\x7f\n", false},
	{"a: \xff\n", false},
	{"a: \xc3\n", false},
	{"a:\n  b: 1\n  - c\n", false},
	{"a: 1\n  b: 2\n", false},
	{"a: \"x\"\n  b: 2\n", false},
	{"- - a\n -\n", false},
	{"a: |\n  x\n ...\n", false},
	{"a: |\n  x\n\t\n", false},
	{"a: x\u0085y\n", false}, // NEL, LS and PS are line breaks to yaml.v3
	{"a: x\u2028y\n", false},
	{"a: x\u2029y\n", false},
	{"a: |\n  x\u0085 y: 1\n", false},
	{"- a\n-b\n", false},
	{strings.Repeat("k", 1100) + ": v\n", false},
	{"a: |\n  \tx\n", false},
	{"a: |\n    \tx\n", false},
	{"scalar\nkey: 1\n", false},
	{"a: 'x' 'y'\n", false},
	{"a: b::\n", false},
	// yaml.v3 accepts these, but the fast path does not follow them.
	{"a:\n  plain on its own line\n", true},
	{"a: multi\n  line plain\n", true},
	{"a: \"multi\n  line\"\n", true},
	{"a: &x 1\nb: *x\n", true},
	{"a: !!str 1\n", true},
	{"%YAML 1.1\n---\na: 1\n", true},
	{"? a\n: b\n", true},
	{"a: {b: c}\n", true},
	{"a: [x, y,]\n", true},
	{"a: [[x]]\n", true},
	{"- - x\n", true},
	{"a: \"x\"#c\n", true},
	{"a: |#c\n  x\n", true},
	{"a: ?x\n", true},
	{"a: :x\n", true},
	{"a b: 1\n", true},
	{"a : 1\n", true},
	{"a:b: 1\n", true},
	{"a:: b\n", true},
	{"a: 1\r\nb: 2\r\n", true},
	{"\ufeffa: 1\n", true},
	{"a: \u2028\n", true},
	{"a: \"x\u0085y\"\n", true},
	{"a: \"\\\n  b\"\n", true},
	{"a: 1\t# tab before comment\n", true},
	{"a:\t1\n", true},
	{"a: |\n  x\n  \t\n", true},
	{"--- |\n  x\n", true},
	{"--- a\n", true},
	{"---a: 1\n", true},
	{"...a: 1\n", true},
	{"<<: {}\n", true},
	{strings.Repeat("k", 600) + ": v\n", true},
	{nested(70), true},
	{"scalar\nmore\n", true},
	{"a: 1\n---\nscalar\n  continued\n", true},
}

// nested returns a mapping nested depth levels deep.
func nested(depth int) string {
	var b strings.Builder
	for d := range depth {
		fmt.Fprintf(&b, "%sk:\n", strings.Repeat(" ", d))
	}
	return b.String()
}

func TestManifestYAMLFastPathAccepts(t *testing.T) {
	for _, in := range fastPathAccepts {
		if err := referenceManifestYAML(in); err != nil {
			t.Errorf("%q: yaml.v3 rejects it (%v); the table is wrong", in, err)
			continue
		}
		if !WellFormed(in) {
			t.Errorf("%q: fast path is not sure, want certain", in)
		}
		if err := Validate(in); err != nil {
			t.Errorf("%q: Validate: %v, want nil", in, err)
		}
	}
}

func TestManifestYAMLFastPathBails(t *testing.T) {
	for _, tc := range fastPathRejects {
		want := referenceManifestYAML(tc.in)
		if (want == nil) != tc.valid {
			t.Errorf("%q: yaml.v3 says %v; the table says valid=%v", tc.in, want, tc.valid)
		}
		if WellFormed(tc.in) {
			t.Errorf("%q: fast path is certain, want not sure", tc.in)
		}
		got := Validate(tc.in)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: Validate says %v, yaml.v3 says %v", tc.in, got, want)
		}
	}
}

// TestManifestYAMLErrorsUnchanged checks that users see yaml.v3's own
// messages, byte for byte, for invalid manifests.
func TestManifestYAMLErrorsUnchanged(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a: b: c\n", "yaml: mapping values are not allowed in this context"},
		{"a:\n  b: 1\n c: 2\n", "yaml: line 2: did not find expected key"},
		{"a: \"\\/\"\n", "yaml: found unknown escape character"},
		{"a: 1\n...\nb: 2", "yaml: line 2: did not find expected <document start>"},
		{"a: |\n   \n  x", "yaml: line 2: did not find expected key"},
	} {
		err := Validate(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got %v, want %s", tc.in, err, tc.want)
		}
		if ref := referenceManifestYAML(tc.in); ref == nil || ref.Error() != tc.want {
			t.Errorf("%q: yaml.v3 says %v, the table says %s", tc.in, ref, tc.want)
		}
	}
	// And every fast-path refusal of a generated invalid manifest gets
	// yaml.v3's message.
	m := deploymentManifest
	for i := 0; i < len(m); i += 97 {
		in := m[:i] + "\t" + m[i:]
		if got, want := Validate(in), referenceManifestYAML(in); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("tab at %d: Validate says %v, yaml.v3 says %v", i, got, want)
		}
	}
}

// TestManifestYAMLDuplicateKeys checks that a manifest whose mapping
// repeats a key is refused, as Kubernetes' strict decoding and Argo CD
// refuse it, by the fast path (which leaves it to the full check) and by
// the full check, with yaml.v3's wording; and that equal keys in
// different mappings or documents are not duplicates.
func TestManifestYAMLDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a: 1\na: 2\n", `yaml: line 2: mapping key "a" already defined at line 1`},
		{"a: 1\n'a': 2\n", `yaml: line 2: mapping key "a" already defined at line 1`},
		{"a: 1\n\"a\": 2\n", `yaml: line 2: mapping key "a" already defined at line 1`},
		{"- x: 1\n  x: 2\n", `yaml: line 2: mapping key "x" already defined at line 1`},
		{"a:\n  b: 1\n  c:\n    d: 1\n  b: 2\n", `yaml: line 5: mapping key "b" already defined at line 2`},
		{"a:\n- b: 1\n  c: 2\n  b: 3\n", `yaml: line 4: mapping key "b" already defined at line 2`},
		{"---\na: 1\n---\nb: 1\nb: 2\n", `yaml: line 5: mapping key "b" already defined at line 4`},
		{"a: {x: 1, x: 2}\n", `yaml: line 1: mapping key "x" already defined at line 1`},
		{"a: &x 1\n*x : 2\n*x : 3\n", `yaml: line 3: mapping key "x" already defined at line 2`},
		{"\"a\\u0062\": 1\nab: 2\n", `yaml: line 2: mapping key "ab" already defined at line 1`},
		{"'it''s': 1\n\"it's\": 2\n", `yaml: line 2: mapping key "it's" already defined at line 1`},
		{"metadata:\n  name: a\n  labels:\n    app: a\n  name: b\n", `yaml: line 5: mapping key "name" already defined at line 2`},
		{"a: 1\nb:\n  a: 1\n---\na: 1\n", ""},
		{"1: a\n01: b\n", ""}, // yaml.v3 compares values as written
	} {
		if WellFormed(tc.in) && tc.want != "" {
			t.Errorf("%q: the fast path is certain, want not sure", tc.in)
		}
		got := Validate(tc.in)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) && !(got == nil && tc.want == "") {
			t.Errorf("%q: got %v, want %s", tc.in, got, tc.want)
		}
		if ref := referenceManifestYAML(tc.in); fmt.Sprint(ref) != fmt.Sprint(got) {
			t.Errorf("%q: the reference says %v, Validate %v", tc.in, ref, got)
		}
	}
	// A mapping with more keys than the fast path remembers is checked in
	// full, duplicates or not.
	var b strings.Builder
	for i := range fastYAMLMaxKeys + 1 {
		fmt.Fprintf(&b, "k%d: v\n", i)
	}
	if WellFormed(b.String()) {
		t.Errorf("%d keys: the fast path is certain, want not sure", fastYAMLMaxKeys+1)
	}
	if err := Validate(b.String() + "k7: again\n"); err == nil || err.Error() != fmt.Sprintf("yaml: line %d: mapping key \"k7\" already defined at line 8", fastYAMLMaxKeys+2) {
		t.Errorf("a duplicate in a large mapping: got %v", err)
	}
}

// TestSpecialWord checks the eight-bytes-at-a-time test against a byte
// by byte one: every byte value at every position of an ordinary word,
// and random words mixing the bytes that matter.
func TestSpecialWord(t *testing.T) {
	want := func(w []byte, a, b byte) bool {
		for _, c := range w {
			if c < ' ' || c >= 0x7f || c == a || c == b {
				return true
			}
		}
		return false
	}
	check := func(w []byte, a, b byte) {
		t.Helper()
		if got := specialWord(load64(string(w), 0), a, b); got != want(w, a, b) {
			t.Fatalf("specialWord(%q, %q, %q) = %v, want %v", w, a, b, got, !got)
		}
	}
	pairs := [][2]byte{{':', '#'}, {'"', '\\'}, {'\'', '\''}, {0x7f, 0x7f}}
	for _, p := range pairs {
		for pos := range 8 {
			for v := range 256 {
				w := []byte("abcdefgh")
				w[pos] = byte(v)
				check(w, p[0], p[1])
			}
		}
	}
	interesting := []byte{0, '\t', '\n', '\r', 0x1f, ' ', '!', ':', '#', '"', '\\', '\'', 0x7e, 0x7f, 0x80, 0xa0, 0xc3, 0xff}
	r := rand.New(rand.NewPCG(5, 6))
	for range 200_000 {
		w := make([]byte, 8)
		for i := range w {
			if r.IntN(3) == 0 {
				w[i] = interesting[r.IntN(len(interesting))]
			} else {
				w[i] = byte(' ' + r.IntN(0x5f))
			}
		}
		p := pairs[r.IntN(len(pairs))]
		check(w, p[0], p[1])
	}
}

// FuzzManifestYAMLFastPath checks the fast path's one rule: whatever it
// accepts, yaml.v3 accepts.
func FuzzManifestYAMLFastPath(f *testing.F) {
	for _, in := range fastPathAccepts {
		f.Add(in)
	}
	for _, tc := range fastPathRejects {
		f.Add(tc.in)
	}
	f.Add(loadtestManifest(2<<10, 2))
	// Duplicate keys, which the fast path must leave to the full check.
	for _, in := range []string{"a: 1\na: 2\n", "a: 1\n'a': 2\n", "- x: 1\n  x: 2\n", "a:\n  b: 1\n  c:\n    d: 1\n  b: 2\n", "a: 1\n---\na: 1\n"} {
		f.Add(in)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 40 {
		f.Add(randomManifestYAML(r, 20))
	}
	f.Fuzz(func(t *testing.T, in string) {
		if !WellFormed(in) {
			return
		}
		if err := referenceManifestYAML(in); err != nil {
			t.Fatalf("fast path accepts %q, yaml.v3 rejects it: %v", in, err)
		}
	})
}

// BenchmarkValidateManifestYAML compares Validate (railyard.ValidateManifestYAML), which
// takes the fast path on these inputs, with the yaml.v3 decode it spares.
func BenchmarkValidateManifestYAML(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"loadtest-10KB", loadtestManifest(10<<10, 1)},
		{"http-bench-10KB", httpBenchManifest("production")},
		{"deployment-service", deploymentManifest},
	} {
		if !WellFormed(bc.in) {
			b.Fatalf("%s: the fast path does not accept it", bc.name)
		}
		b.Run(bc.name+"/fast", func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Validate(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/yaml.v3", func(b *testing.B) {
			b.SetBytes(int64(len(bc.in)))
			b.ReportAllocs()
			for b.Loop() {
				if err := referenceManifestYAML(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// yamlGen writes random YAML-like documents from the pieces manifests are
// made of: nested mappings and sequences, compact and indentless
// sequences, scalars of every style, block scalars, comments and document
// markers. Now and then (one piece in odd) it writes a wrong or unusual
// piece instead, or gets an indentation wrong, so that a good share of
// its output is well-formed and much of the rest nearly so: where a fast
// path goes wrong.
type yamlGen struct {
	r   *rand.Rand
	b   strings.Builder
	odd int
}

func (g *yamlGen) pick(good, odd []string) string {
	if g.r.IntN(g.odd) == 0 {
		return odd[g.r.IntN(len(odd))]
	}
	return good[g.r.IntN(len(good))]
}

// indent writes n spaces, or now and then one more or one less.
func (g *yamlGen) indent(n int) {
	if g.r.IntN(g.odd*4) == 0 {
		n += g.r.IntN(3) - 1
	}
	g.b.WriteString(strings.Repeat(" ", max(n, 0)))
}

// eol ends a line, sometimes with a comment or blank lines after it.
func (g *yamlGen) eol() {
	if g.r.IntN(10) == 0 {
		g.b.WriteString(g.pick([]string{" # c", "   "}, []string{"#c", " #", "\t# c"}))
	}
	g.b.WriteString(g.pick([]string{"\n", "\n", "\n", "\n\n", "\n  \n", "\n# comment\n", "\n      # deep\n"}, []string{"\r\n", "\n\t\n", "\n\n  ---\n"}))
}

func (g *yamlGen) key() string {
	return g.pick([]string{"k", "name", "app.kubernetes.io/name", "x_y-z", ".dot", "0", "k2", "k3", `"q k"`, `'s k'`, `"k"`, `'name'`},
		[]string{`""`, "a b", "k:x", "-k", "<<", "?", "é", "k ", "---", "...", "k\t", `"k\/"`, "&a k", "[k]"})
}

func (g *yamlGen) scalar() string {
	return g.pick([]string{"v", "two words", "1", "-1", "--flag", "a:b", "a#b", "~", "é ü 😀", "http://x:80/#f", "50%",
		`"s"`, `"a\nb \u00e9 \x41 \" \\"`, `'it''s'`, `''`, `""`, "[]", "{}", "[ ]", "[a, b]", `["sh", "-c", 'x y']`, "[--x, -y]"},
		[]string{"a: b", "a:", "a #c", `"\/"`, `"\x4g"`, `"\uD800"`, `"unterminated`, `"a"b`, `"a" #c`, `'x`, "[a,]",
			"[a,,b]", "[- x]", "{a: b}", "[[a]]", "&a x", "*a", "!t x", "? x", ":x", "@x", "`x", ",x", "]", "}", "%x",
			"- x", "-", "x\ty", "\t", "x\x7f", "\xff", "\u2028", "\ufeff", "\u0085", "x\u0085y", "x\u2028y", "x\u2029y", "---", "...", "|0", "|x", "|#c"})
}

// value writes what follows "key:" or "-" for a node at depth d whose
// collection is indented by ind.
func (g *yamlGen) value(ind, d int) {
	switch k := g.r.IntN(10); {
	case k < 5 || d > 4:
		g.b.WriteString(" " + g.scalar())
		g.eol()
	case k < 7:
		g.block(ind)
	default:
		g.eol()
		g.node(ind+1+g.r.IntN(3), d+1)
	}
}

// block writes a block scalar for a collection indented by ind.
func (g *yamlGen) block(ind int) {
	header := g.pick([]string{"|", "|-", "|+", ">", ">-", "|2", "|-1", "| # c"}, []string{"|0", "|x", "|#c", "|22", "|--"})
	g.b.WriteString(" " + header + "\n")
	body := ind + 2
	if strings.ContainsAny(header, "12") {
		body = ind + int(header[len(header)-1]-'0')
	}
	for range g.r.IntN(4) {
		switch g.r.IntN(6) {
		case 0:
			g.b.WriteString(strings.Repeat(" ", g.r.IntN(body+3)) + "\n")
		case 1:
			g.indent(body + 2)
			g.b.WriteString("more indented\n")
		default:
			g.indent(body)
			g.b.WriteString(g.pick([]string{"text", "#not a comment", "- not a seq", "k: v: w", "tab\there", `"open`, "&a *b !c"},
				[]string{"\ttab", "x\x00"}) + "\n")
		}
	}
}

// node writes a mapping or sequence indented by ind.
func (g *yamlGen) node(ind, d int) {
	if g.r.IntN(2) == 0 {
		g.mapping(ind, d, false)
	} else {
		g.sequence(ind, d)
	}
}

// mapping writes a block mapping; compact means its first key follows a
// "- " already written.
func (g *yamlGen) mapping(ind, d int, compact bool) {
	for i := range 1 + g.r.IntN(4) {
		if !(compact && i == 0) {
			g.indent(ind)
		}
		g.b.WriteString(g.key() + g.pick([]string{":"}, []string{" :", "", ":\t"}))
		if g.r.IntN(5) == 0 && d < 5 {
			g.eol() // an indentless sequence
			g.sequence(ind, d+1)
			continue
		}
		g.value(ind, d)
	}
}

func (g *yamlGen) sequence(ind, d int) {
	for range 1 + g.r.IntN(4) {
		g.indent(ind)
		g.b.WriteString("-")
		if g.r.IntN(3) == 0 && d < 5 {
			g.b.WriteString(g.pick([]string{" "}, []string{"", "  ", " - "}))
			g.mapping(ind+2, d+1, true)
			continue
		}
		g.value(ind, d)
	}
}

// randomManifestYAML returns a random stream of one to three documents;
// odd sets how rare the wrong pieces are.
func randomManifestYAML(r *rand.Rand, odd int) string {
	g := &yamlGen{r: r, odd: odd}
	for i := range 1 + r.IntN(3) {
		if i > 0 || r.IntN(4) == 0 {
			g.b.WriteString(g.pick([]string{"---\n", "--- # c\n", "...\n---\n"}, []string{"---x\n", "--- a\n", "%YAML 1.2\n---\n", "...\n"}))
		}
		switch r.IntN(8) {
		case 0:
			g.b.WriteString(g.scalar() + "\n")
		case 1:
		default:
			g.node(int(g.pick([]string{"0"}, []string{"1", "2"})[0]-'0'), 0)
		}
	}
	s := g.b.String()
	if r.IntN(4) == 0 {
		s = strings.TrimSuffix(s, "\n")
	}
	return s
}

// TestManifestYAMLFastPathRandom checks soundness on many random,
// nearly-YAML inputs, and that enough of them take the fast path for the
// check to mean something.
func TestManifestYAMLFastPathRandom(t *testing.T) {
	n := 50_000
	if testing.Short() {
		n = 5_000
	}
	r := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for i := range n {
		in := randomManifestYAML(r, 4+i%40)
		if !WellFormed(in) {
			continue
		}
		accepted++
		if err := referenceManifestYAML(in); err != nil {
			t.Fatalf("fast path accepts %q, yaml.v3 rejects it: %v", in, err)
		}
	}
	t.Logf("the fast path accepts %d of %d random inputs", accepted, n)
	if accepted < n/10 {
		t.Errorf("the fast path accepts only %d of %d random inputs: the generator no longer exercises it", accepted, n)
	}
}
