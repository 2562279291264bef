package http

import (
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"reflect"
	"regexp"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// operation documents one route in the OpenAPI document. Schemas are not
// written by hand: they are derived from the Go types the handlers decode
// and encode, so the document cannot drift from the wire format.
type operation struct {
	Tag         string
	Summary     string
	Description string
	// Query lists the query parameters.
	Query []param
	// Request is a value of the JSON body type; nil when there is none.
	Request any
	// BodyOptional says that the JSON body may be left out (empty).
	BodyOptional bool
	// Form describes a multipart/form-data body instead of Request.
	Form map[string]any
	// Responses are the success (and documented non-error) answers.
	Responses []response
	// Errors are the statuses answered with the error JSON besides 500.
	Errors []int
}

// param is a query parameter; Type is "string", "integer" or "date-time".
type param struct {
	Name, Description, Type string
}

// response is one documented answer; Body is a value of its type.
type response struct {
	Status      int
	Description string
	Body        any
}

// htmlPage marks an answer that is an HTML page.
type htmlPage struct{}

// rawJSON marks a JSON answer whose schema is not described (the OpenAPI
// document itself).
type rawJSON struct{}

// pathParamDocs describe the path wildcards.
var pathParamDocs = map[string]string{
	"env":     "Environment name: a lowercase DNS label of at most 23 characters.",
	"group":   "Environment-group name: a lowercase DNS label of at most 23 characters.",
	"app":     "Application name: a lowercase DNS label of at most 39 characters.",
	"team":    "Team name: a lowercase DNS label of at most 39 characters.",
	"id":      "Lock id: a letter or digit, then up to 99 letters, digits, '.', '_' or '-'.",
	"version": "Release version: a positive integer up to 9007199254740991 (2^53-1), in decimal without sign, spaces or leading zeros.",
}

// schemaEnums lists the values of the string types that are enumerations.
var schemaEnums = map[reflect.Type][]string{
	// A blocker's kind is a lock kind or "window"; locks themselves are
	// never of kind window.
	reflect.TypeFor[railyard.LockKind]():     {string(railyard.LockEnvironment), string(railyard.LockApplication), string(railyard.LockTeam), string(railyard.LockGroup), string(railyard.BlockerWindow)},
	reflect.TypeFor[railyard.LockBehavior](): {string(railyard.LockBehaviorFail), string(railyard.LockBehaviorQueue), string(railyard.LockBehaviorIgnore)},
}

var wildcardRE = regexp.MustCompile(`\{([a-z]+)\}`)

// handleOpenAPI serves the OpenAPI document of the routes.
func (s *Server) handleOpenAPI(w nethttp.ResponseWriter, r *nethttp.Request) error {
	doc, err := buildOpenAPI(s.routes)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(nethttp.StatusOK)
	_, _ = w.Write(doc)
	return nil
}

var openAPIDoc = &operation{
	Tag:       "service",
	Summary:   "This document",
	Responses: []response{{200, "The OpenAPI 3.0 document of every route.", rawJSON{}}},
}

// openAPIPath turns a ServeMux pattern into an OpenAPI path.
func openAPIPath(pattern string) string {
	return strings.TrimSuffix(pattern, "{$}")
}

// buildOpenAPI describes the routes as an OpenAPI 3.0 document.
func buildOpenAPI(routes []route) ([]byte, error) {
	b := &schemaBuilder{schemas: map[string]any{}, names: map[reflect.Type]string{}}
	paths := map[string]map[string]any{}
	for _, rt := range routes {
		if rt.doc == nil {
			return nil, fmt.Errorf("route %s %s has no documentation", rt.method, rt.pattern)
		}
		p := openAPIPath(rt.pattern)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(rt.method)] = b.operation(rt)
	}
	b.ref(reflect.TypeFor[railyard.Error]())
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Railyard API",
			"version": "1",
			"description": "Railyard's JSON API under /api/v1, its Kuberpult-compatible endpoints and its service endpoints. " +
				"Errors are answered as JSON {code, message, field?, blockers?, diff?}; see docs/api.md for the status table. " +
				"The actor of a change is taken from the base64-encoded headers author-name and author-email.",
		},
		"paths":      paths,
		"components": map[string]any{"schemas": b.schemas},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// schemaBuilder derives schemas from Go types; every struct type becomes
// one named component.
type schemaBuilder struct {
	schemas map[string]any
	names   map[reflect.Type]string
}

// operation describes one route.
func (b *schemaBuilder) operation(rt route) map[string]any {
	d := rt.doc
	op := map[string]any{
		"operationId": operationID(rt.method, rt.pattern),
		"summary":     d.Summary,
		"tags":        []string{d.Tag},
		"responses":   b.responses(d, guardStatuses(rt.method)),
	}
	if d.Description != "" {
		op["description"] = d.Description
	}
	if params := b.parameters(rt.pattern, d.Query); len(params) > 0 {
		op["parameters"] = params
	}
	switch {
	case d.Form != nil:
		op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"multipart/form-data": map[string]any{"schema": d.Form}}}
	case d.Request != nil:
		op["requestBody"] = map[string]any{"required": !d.BodyOptional, "content": map[string]any{"application/json": map[string]any{"schema": b.schema(reflect.TypeOf(d.Request))}}}
	}
	return op
}

// parameters describes the path wildcards and the query parameters.
func (b *schemaBuilder) parameters(pattern string, query []param) []any {
	var params []any
	for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
		schema := map[string]any{"type": "string"}
		if m[1] == "version" {
			schema = map[string]any{"type": "integer", "minimum": 1, "maximum": int64(railyard.MaxVersion)}
		}
		params = append(params, map[string]any{"name": m[1], "in": "path", "required": true,
			"description": pathParamDocs[m[1]], "schema": schema})
	}
	for _, q := range query {
		schema := map[string]any{"type": q.Type}
		if q.Type == "date-time" {
			schema = map[string]any{"type": "string", "format": "date-time"}
		}
		params = append(params, map[string]any{"name": q.Name, "in": "query", "required": false, "description": q.Description, "schema": schema})
	}
	return params
}

// responses describes the answers of an operation, errors included;
// guard are the statuses the guard may answer before the handler.
func (b *schemaBuilder) responses(d *operation, guard []int) map[string]any {
	out := map[string]any{}
	for _, r := range d.Responses {
		var content map[string]any
		switch r.Body.(type) {
		case htmlPage:
			content = map[string]any{"text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rawJSON:
			content = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		case plainText:
			content = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		default:
			content = map[string]any{"application/json": map[string]any{"schema": b.schema(reflect.TypeOf(r.Body))}}
		}
		out[fmt.Sprint(r.Status)] = map[string]any{"description": r.Description, "content": content}
	}
	errRef := b.ref(reflect.TypeFor[railyard.Error]())
	for _, status := range append(append(append([]int{}, d.Errors...), guard...), nethttp.StatusInternalServerError) {
		out[fmt.Sprint(status)] = map[string]any{
			"description": nethttp.StatusText(status) + ": see the error's code, message and field.",
			"content":     map[string]any{"application/json": map[string]any{"schema": errRef}},
		}
	}
	return out
}

// operationID derives a unique id from the method and pattern:
// "PUT /api/v1/environments/{env}" → "putApiV1EnvironmentsEnv".
func operationID(method, pattern string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.FieldsFunc(pattern, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	if pattern == "/{$}" {
		b.WriteString("Home")
	}
	return b.String()
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schema describes a Go type as it is encoded by encoding/json.
func (b *schemaBuilder) schema(t reflect.Type) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case rawType:
		return map[string]any{"description": "Any JSON value."}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return b.schema(t.Elem())
	case reflect.String:
		s := map[string]any{"type": "string"}
		if enum, ok := schemaEnums[t]; ok {
			s["enum"] = enum
		}
		return s
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "format": "int64"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": b.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": b.schema(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return b.structSchema(t)
		}
		return b.ref(t)
	}
	return map[string]any{}
}

// ref registers a named struct type as a component and refers to it.
func (b *schemaBuilder) ref(t reflect.Type) map[string]any {
	name, ok := b.names[t]
	if !ok {
		name = strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
		for n := 2; b.schemas[name] != nil; n++ {
			name = fmt.Sprintf("%s%d", strings.ToUpper(t.Name()[:1])+t.Name()[1:], n)
		}
		b.names[t] = name
		b.schemas[name] = map[string]any{} // placeholder: a type may refer to itself
		b.schemas[name] = b.structSchema(t)
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// structSchema describes a struct's JSON object, flattening embedded
// structs as encoding/json does.
func (b *schemaBuilder) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	b.addFields(t, props)
	s := map[string]any{"type": "object", "properties": props}
	if len(props) == 0 {
		delete(s, "properties")
	}
	return s
}

// addFields adds the JSON properties of t's fields to props.
func (b *schemaBuilder) addFields(t reflect.Type, props map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			b.addFields(ft, props)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := b.schema(f.Type)
		if format := f.Tag.Get("format"); format != "" {
			s["format"] = format
		}
		if f.Type.Kind() == reflect.Pointer && !strings.Contains(opts, "omitempty") {
			if _, isRef := s["$ref"]; isRef {
				s = map[string]any{"allOf": []any{s}}
			}
			s["nullable"] = true
		}
		props[name] = s
	}
}
