package argocd_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/railyard-cd/railyard"
	"github.com/railyard-cd/railyard/argocd"
)

// crdDir holds Argo CD's CRDs (see its SOURCE.md), relative to this
// package's directory, where go test runs.
const crdDir = "testdata/crds"

// TestDocumentsMatchCRDSchemas validates every document of every golden
// case against the openAPIV3Schema of Argo CD's CRDs, made strict (see
// toJSONSchema), plus the rules Argo CD checks outside the schema.
func TestDocumentsMatchCRDSchemas(t *testing.T) {
	t.Parallel()
	schemas := loadSchemas(t)
	for _, tc := range goldenCases() {
		files, err := argocd.Files(tc.env, tc.apps, testOptions)
		if err != nil {
			t.Fatalf("%s: Files: %v", tc.name, err)
		}
		for _, p := range slices.Sorted(maps.Keys(files)) {
			docs := splitDocuments(t, files[p])
			for i, doc := range docs {
				if err := schemas.validate(doc); err != nil {
					t.Errorf("%s: %s document %d does not match its CRD schema:\n%v", tc.name, p, i+1, err)
				}
			}
		}
	}
	// The edge cases: longest names, a long team, annotations that need quoting.
	env := &railyard.Environment{Name: strings.Repeat("e", railyard.MaxEnvironmentNameLength), Config: railyard.EnvironmentConfig{
		ArgoCD: &railyard.ArgoCDConfig{
			Destination:            railyard.ArgoCDDestination{Server: argocd.DefaultServer},
			ApplicationAnnotations: specialAnnotations(),
		},
	}}
	longest := strings.Repeat("a", railyard.MaxApplicationNameLength)
	out, err := argocd.Application(env, argocd.App{Name: longest, Team: longest}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas.validate(splitDocuments(t, out)[0]); err != nil {
		t.Errorf("Application with the longest names and special annotations does not match its CRD schema:\n%v", err)
	}
}

// TestSchemaValidationCatchesErrors proves the validator is not vacuous:
// each mutation of a valid generated document must fail validation, at the
// path that was broken.
func TestSchemaValidationCatchesErrors(t *testing.T) {
	t.Parallel()
	schemas := loadSchemas(t)
	env := fullEnvironment("production", "")
	app, err := argocd.Application(env, argocd.App{Name: "checkout", Team: "payments"}, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	project, err := argocd.Project(env, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		doc    []byte
		mutate func(d map[string]any)
		at     string // the path the error must name
	}{
		{"boolean as string", app, func(d map[string]any) { dig(d, "spec", "syncPolicy", "automated")["prune"] = "yes" }, "/spec/syncPolicy/automated/prune"},
		{"unknown field", app, func(d map[string]any) { dig(d, "spec", "syncPolicy", "automated")["prunee"] = true }, "/spec/syncPolicy/automated"},
		{"unknown top-level spec field", app, func(d map[string]any) { dig(d, "spec")["sourcez"] = map[string]any{} }, "/spec"},
		{"missing project", app, func(d map[string]any) { delete(dig(d, "spec"), "project") }, "/spec"},
		{"missing repoURL", app, func(d map[string]any) { delete(dig(d, "spec", "source"), "repoURL") }, "/spec/source"},
		{"list as string", app, func(d map[string]any) { dig(d, "spec", "syncPolicy")["syncOptions"] = "CreateNamespace=true" }, "/spec/syncPolicy/syncOptions"},
		{"ignoreDifferences without kind", app, func(d map[string]any) {
			delete(dig(d, "spec")["ignoreDifferences"].([]any)[0].(map[string]any), "kind")
		}, "/spec/ignoreDifferences/0"},
		{"name longer than 63", app, func(d map[string]any) { dig(d, "metadata")["name"] = strings.Repeat("a", 64) }, "/metadata/name"},
		{"label value longer than 63", app, func(d map[string]any) {
			dig(d, "metadata", "labels")["railyard.dev/team"] = strings.Repeat("a", 64)
		}, "/metadata/labels"},
		{"destination with name and server", app, func(d map[string]any) { dig(d, "spec", "destination")["name"] = "prod-cluster" }, "/spec/destination"},
		{"wrong kind", app, func(d map[string]any) { d["kind"] = "Applicaton" }, "kind"},
		{"project description too long", project, func(d map[string]any) { dig(d, "spec")["description"] = strings.Repeat("a", 256) }, "/spec/description"},
		{"whitelist entry without group", project, func(d map[string]any) {
			delete(dig(d, "spec")["clusterResourceWhitelist"].([]any)[0].(map[string]any), "group")
		}, "/spec/clusterResourceWhitelist/0"},
		{"sync window manualSync as string", project, func(d map[string]any) {
			dig(d, "spec")["syncWindows"].([]any)[0].(map[string]any)["manualSync"] = "true"
		}, "/spec/syncWindows/0/manualSync"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := splitDocuments(t, tc.doc)[0]
			if err := schemas.validate(doc); err != nil {
				t.Fatalf("the unmutated document must be valid: %v", err)
			}
			tc.mutate(doc)
			err := schemas.validate(doc)
			if err == nil {
				t.Fatal("validation passed, want a failure")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tc.at) {
				t.Errorf("error does not name %s:\n%v", tc.at, err)
			}
		})
	}
}

// crdSchemas holds the compiled schema of each kind.
type crdSchemas map[string]*jsonschema.Schema

// validate checks doc against the schema of its kind and against the
// rules Argo CD enforces in its controller rather than in the CRD.
func (s crdSchemas) validate(doc map[string]any) error {
	kind, _ := doc["kind"].(string)
	schema, ok := s[kind]
	if !ok {
		return fmt.Errorf("kind %q is not Application or AppProject", kind)
	}
	if doc["apiVersion"] != "argoproj.io/v1alpha1" {
		return fmt.Errorf("apiVersion %v is not argoproj.io/v1alpha1", doc["apiVersion"])
	}
	// Round-trip through JSON: this is what the API server receives, and
	// it fails on anything JSON cannot hold (such as non-string keys).
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("document is not JSON-compatible: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	if err := schema.Validate(v); err != nil {
		return err
	}
	if kind == "Application" {
		// Argo CD's controller marks such an Application InvalidSpecError;
		// the v1alpha1 CRD has no rule for it.
		d := dig(doc, "spec", "destination")
		if d["name"] != nil && d["server"] != nil {
			return errors.New("/spec/destination: Argo CD rejects a destination with both name and server")
		}
		if d["name"] == nil && d["server"] == nil {
			return errors.New("/spec/destination: Argo CD needs name or server")
		}
	}
	return nil
}

// loadSchemas compiles the CRDs' schemas.
func loadSchemas(t *testing.T) crdSchemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	// Kubernetes formats the validator does not know; date-time it does.
	c.RegisterFormat(&jsonschema.Format{Name: "int64", Validate: validateInt64})
	c.AssertFormat()
	schemas := crdSchemas{}
	for kind, file := range map[string]string{"Application": "application-crd.yaml", "AppProject": "appproject-crd.yaml"} {
		openAPI := readOpenAPISchema(t, filepath.Join(crdDir, file))
		schema, err := toJSONSchema(openAPI)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		schema["properties"].(map[string]any)["metadata"] = objectMetaSchema()
		url := "file:///crds/" + file + ".json"
		if err := c.AddResource(url, schema); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		compiled, err := c.Compile(url)
		if err != nil {
			t.Fatalf("%s: compile: %v", file, err)
		}
		schemas[kind] = compiled
	}
	return schemas
}

// readOpenAPISchema returns the openAPIV3Schema of the CRD's v1alpha1
// version, decoded into JSON-compatible values.
func readOpenAPISchema(t *testing.T, name string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `yaml:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
				} `yaml:"schema"`
			} `yaml:"versions"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == "v1alpha1" {
			return v.Schema.OpenAPIV3Schema
		}
	}
	t.Fatalf("%s has no v1alpha1 version", name)
	return nil
}

// toJSONSchema turns a Kubernetes structural schema (OpenAPI v3) into JSON
// Schema 2020-12. The two nearly agree; the differences:
//
//   - x-kubernetes-* keys are dropped; x-kubernetes-int-or-string becomes
//     anyOf integer/string when the CRD does not spell that out itself;
//   - nullable: true adds "null" to the type;
//   - an object with properties gets additionalProperties: false unless it
//     has x-kubernetes-preserve-unknown-fields. The API server silently
//     prunes unknown fields instead of rejecting them, so a misspelt field
//     in the generator would vanish in the cluster without an error; here
//     it fails the test (like kubectl's --validate=strict);
//   - an unknown keyword is an error, so a new CRD version using one is
//     noticed instead of being half-checked.
func toJSONSchema(in map[string]any) (map[string]any, error) {
	out := map[string]any{}
	preserve := in["x-kubernetes-preserve-unknown-fields"] == true
	for k, v := range in {
		switch k {
		case "description", "example", "default":
			// Documentation only (no CRD here relies on defaulting).
		case "type", "format", "enum", "pattern", "required", "minLength", "maxLength",
			"minimum", "maximum", "minItems", "maxItems", "uniqueItems":
			out[k] = v
		case "properties":
			props := map[string]any{}
			for name, sub := range v.(map[string]any) {
				s, err := toJSONSchema(sub.(map[string]any))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				props[name] = s
			}
			out[k] = props
		case "items", "not":
			s, err := toJSONSchema(v.(map[string]any))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = s
		case "additionalProperties":
			if b, ok := v.(bool); ok {
				out[k] = b
				continue
			}
			s, err := toJSONSchema(v.(map[string]any))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = s
		case "anyOf", "allOf", "oneOf":
			var list []any
			for _, sub := range v.([]any) {
				s, err := toJSONSchema(sub.(map[string]any))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				list = append(list, s)
			}
			out[k] = list
		case "nullable":
		case "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-list-type",
			"x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-embedded-resource":
		default:
			return nil, fmt.Errorf("keyword %q is not handled by the conversion", k)
		}
	}
	if in["x-kubernetes-int-or-string"] == true && out["anyOf"] == nil {
		out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
	}
	if in["nullable"] == true {
		if typ, ok := out["type"].(string); ok {
			out["type"] = []any{typ, "null"}
		}
	}
	if _, hasProps := out["properties"]; hasProps && !preserve && out["additionalProperties"] == nil {
		out["additionalProperties"] = false
	}
	return out, nil
}

// objectMetaSchema stands in for metadata, which the CRDs leave as a bare
// object because the API server checks it itself. It holds the fields the
// generator writes and the API server's rules for them. Names are limited
// to 63 characters, not 253: Argo CD puts the Application's name in the
// app.kubernetes.io/instance label of every resource it deploys.
func objectMetaSchema() map[string]any {
	const (
		dnsLabel      = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
		qualifiedName = `^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`
		labelValue    = `^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`
	)
	label := map[string]any{"type": "string", "maxLength": 63, "pattern": dnsLabel}
	return map[string]any{
		"type":                 "object",
		"required":             []any{"name"},
		"additionalProperties": false,
		"properties": map[string]any{
			"name":      label,
			"namespace": label,
			"labels": map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": qualifiedName},
				"additionalProperties": map[string]any{"type": "string", "maxLength": 63, "pattern": labelValue},
			},
			"annotations": map[string]any{
				"type":                 "object",
				"propertyNames":        map[string]any{"pattern": qualifiedName},
				"additionalProperties": map[string]any{"type": "string"},
			},
			"finalizers": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
		},
	}
}

// validateInt64 checks Kubernetes' int64 format on numbers (other types
// are left to "type").
func validateInt64(v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	if _, err := n.Int64(); err != nil {
		if f, ferr := n.Float64(); ferr != nil || f != math.Trunc(f) {
			return fmt.Errorf("%s is not an integer", n)
		}
		return fmt.Errorf("%s does not fit in 64 bits", n)
	}
	return nil
}

// splitDocuments decodes every document of a YAML stream.
func splitDocuments(t *testing.T, stream []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := yaml.NewDecoder(bytes.NewReader(stream))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("generated YAML does not parse: %v", err)
		}
		docs = append(docs, doc)
	}
}

// dig returns the map at the path, failing loudly if the document's shape
// is not what the test expects.
func dig(doc map[string]any, keys ...string) map[string]any {
	m := doc
	for _, k := range keys {
		m = m[k].(map[string]any)
	}
	return m
}
