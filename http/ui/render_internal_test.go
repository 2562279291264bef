package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	railyard "github.com/railyard-cd/railyard"
	rhttp "github.com/railyard-cd/railyard/http"
)

// TestRenderError_StatusOfTheServersTable answers every domain error code
// with the status the API answers it with (rhttp.ErrorStatus), the codes
// the UI's own table once lacked (ETOOLARGE, EUNSUPPORTED, …) included,
// and shows the message of every error but an internal one.
func TestRenderError_StatusOfTheServersTable(t *testing.T) {
	t.Parallel()
	h := NewHandler(nil, Options{})
	cases := []struct {
		code    string
		status  int
		heading string
	}{
		{railyard.EINVALID, http.StatusBadRequest, "That did not work"},
		{railyard.ENOTFOUND, http.StatusNotFound, "Not found"},
		{railyard.ECONFLICT, http.StatusConflict, "That did not work"},
		{railyard.ELOCKED, http.StatusLocked, "Blocked"},
		{railyard.ETOOLARGE, http.StatusRequestEntityTooLarge, "That did not work"},
		{railyard.EUNSUPPORTED, http.StatusUnsupportedMediaType, "That did not work"},
		{railyard.EUNAUTHORIZED, http.StatusUnauthorized, "That did not work"},
		{railyard.EFORBIDDEN, http.StatusForbidden, "That did not work"},
		{railyard.EINTERNAL, http.StatusInternalServerError, "Something went wrong"},
		{"no_such_code", http.StatusInternalServerError, "Something went wrong"},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.renderError(rec, httptest.NewRequest("POST", "/ui/apps/checkout/deploy", nil), &page{Status: http.StatusOK},
			railyard.Errorf(c.code, "the detail of %s", c.code))
		if rec.Code != c.status || rec.Code != rhttp.ErrorStatus(c.code) {
			t.Errorf("%s: got status %d, want %d (the API answers %d)", c.code, rec.Code, c.status, rhttp.ErrorStatus(c.code))
		}
		body := rec.Body.String()
		if !strings.Contains(body, "<h1>"+c.heading+"</h1>") {
			t.Errorf("%s: the page does not have the heading %q", c.code, c.heading)
		}
		if shown := strings.Contains(body, "the detail of "+c.code); shown != (c.status != http.StatusInternalServerError) {
			t.Errorf("%s: message shown = %v, want it shown for every error but an internal one", c.code, shown)
		}
	}
}

// TestLogKeyIsError logs errors under the key "error", as package http
// and every other component do.
func TestLogKeyIsError(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := NewHandler(nil, Options{
		Logger: slog.New(slog.NewJSONHandler(&buf, nil)),
		ExportStatus: func(context.Context) (railyard.ExportStatus, error) {
			return railyard.ExportStatus{}, errors.New("exporter gone")
		},
	})
	r := httptest.NewRequest("GET", "/", nil)
	h.exportBanner(r)
	h.renderError(httptest.NewRecorder(), r, &page{}, errors.New("disk on fire"))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"exporter gone", "disk on fire"}
	if len(lines) != len(want) {
		t.Fatalf("got %d log lines, want %d:\n%s", len(lines), len(want), buf.String())
	}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["error"] != want[i] || rec["err"] != nil {
			t.Errorf("log line %d has error=%v err=%v, want error=%q and no err: %s", i, rec["error"], rec["err"], want[i], line)
		}
	}
}
