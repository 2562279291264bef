// Package yamlcheck decides whether a manifest is a stream of well-formed
// YAML documents, as Kubernetes' strict decoding and Argo CD read them:
// every document parses, and no mapping repeats a key. It knows nothing
// of Railyard; the domain calls Validate for every manifest of a release.
//
// Decoding a 10 KB manifest with yaml.v3 costs 0.5 to 0.9 ms, and
// every published release validates one manifest per environment. Real
// manifests use a small, regular part of YAML: block mappings and
// sequences, single-line scalars, block literals, comments and "---".
// WellFormed, the fast path, recognizes that part in one pass without
// allocating, and answers "certainly well-formed" or "not sure". On "not
// sure", yaml.v3 decides, so its error messages are what users see.
//
// The one rule is soundness: it may only answer true for input that
// yaml.v3 accepts. Anything it does not fully understand (tabs, anchors,
// aliases, tags, directives, complex keys, flow collections other than
// trivial ones, multi-line plain or quoted scalars, unusual characters,
// suspicious indentation) makes it answer false. FuzzManifestYAMLFastPath
// checks the rule against yaml.v3.
//
// It refuses duplicate mapping keys, as the full check does (see
// duplicateKeys): each open mapping's keys are kept as positions in the
// input, and a key equal to an earlier one of the same mapping makes it
// answer "not sure", so that yaml.v3 and the full check report it. Keys
// with escapes, and mappings beyond fastYAMLMaxKeys keys on the open path,
// are left to the full check too.
package yamlcheck

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Validate checks that every document of a multi-document YAML stream
// parses and that no mapping repeats a key. The fast path accepts the
// common shapes of Kubernetes manifests without parsing them fully;
// anything else, and every error, comes from yaml.v3 (a repeated key is
// a *DuplicateKeyError).
func Validate(manifest string) error {
	if WellFormed(manifest) {
		return nil
	}
	return decode(manifest)
}

// decode decodes every document of manifest with yaml.v3 and refuses
// duplicate mapping keys, which yaml.v3 does not report when it decodes
// into a yaml.Node but Kubernetes' strict decoding and Argo CD do.
func decode(manifest string) error {
	dec := yaml.NewDecoder(strings.NewReader(manifest))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if err := duplicateKeys(&n); err != nil {
			return err
		}
	}
}

// DuplicateKeyError is a mapping that repeats a key. Its message is in
// yaml.v3's words: "yaml: line 5: mapping key "name" already defined at
// line 3". Key is the whole key: a caller that shows it to people bounds
// it.
type DuplicateKeyError struct {
	Key string
	// Line is where the key is repeated, FirstLine where it was first
	// given.
	Line, FirstLine int
}

// Error implements error.
func (e *DuplicateKeyError) Error() string {
	return fmt.Sprintf("yaml: line %d: mapping key %q already defined at line %d", e.Line, e.Key, e.FirstLine)
}

// mappingKey is what makes two keys of one mapping the same: yaml.v3's
// rule when it decodes into a Go map (same kind of node, same value as
// written after unquoting), so "a", 'a' and "a" are one key and 1 and 01
// are two.
type mappingKey struct {
	kind  yaml.Kind
	value string
}

// duplicateKeys reports the first mapping of the document tree whose
// scalar or alias keys repeat. Aliases are not followed: the
// node they name is checked where it is defined.
func duplicateKeys(doc *yaml.Node) error {
	seen := map[mappingKey]int{}
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.Kind == yaml.MappingNode {
			clear(seen)
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Kind != yaml.ScalarNode && k.Kind != yaml.AliasNode {
					continue
				}
				key := mappingKey{k.Kind, k.Value}
				if line, dup := seen[key]; dup {
					return &DuplicateKeyError{Key: k.Value, Line: k.Line, FirstLine: line}
				}
				seen[key] = k.Line
			}
		}
		if n.Kind != yaml.AliasNode {
			// Children in reverse, so that the first duplicate in document
			// order is the one reported.
			for i := len(n.Content) - 1; i >= 0; i-- {
				stack = append(stack, n.Content[i])
			}
		}
	}
	return nil
}
