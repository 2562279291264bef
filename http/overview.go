package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	railyard "github.com/railyard-cd/railyard"
)

// handleOverview answers what runs where: every application in every
// environment, as of one read of the store. The body is the encoding of
// the engine's overview snapshot, which this server keeps (see
// overviewBody), gzip-compressed for clients that accept it.
func (s *Server) handleOverview(w nethttp.ResponseWriter, r *nethttp.Request) error {
	ov, err := s.engine.Overview(r.Context())
	if err != nil {
		return err
	}
	gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	body, err := s.overview.body(ov, gz)
	if err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Vary", "Accept-Encoding")
	if gz {
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(nethttp.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// overviewBody is the JSON of the last overview served. At 6,000
// applications in 50 environments the overview is 300,000 cells and about
// 30 MB of JSON, whose encoding costs far more than the engine's snapshot
// (BENCHMARKS.md, "Overview at scale"). The engine's snapshots share the
// rows that did not change, and rows are never modified, so each row's
// encoding is kept by its pointer and only new rows are encoded; the
// whole body, and its gzip form, are kept for the snapshot they encode.
type overviewBody struct {
	mu   sync.Mutex
	ov   *railyard.Overview
	json []byte
	gz   []byte
	rows map[*railyard.OverviewApplication][]byte
}

// body returns the encoding of ov, gzip-compressed if gz. It is exactly
// what writeJSON writes for ov (with Environments never null).
func (b *overviewBody) body(ov *railyard.Overview, gz bool) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ov != ov {
		body, rows, err := encodeOverview(ov, b.rows)
		if err != nil {
			return nil, err
		}
		b.ov, b.json, b.gz, b.rows = ov, body, nil, rows
	}
	if !gz {
		return b.json, nil
	}
	if b.gz == nil {
		var buf bytes.Buffer
		buf.Grow(len(b.json) / 16)
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(b.json)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("compress overview: %w", err)
		}
		b.gz = buf.Bytes()
	}
	return b.gz, nil
}

// encodeOverview writes ov as json.Encoder (HTML not escaped) writes it,
// taking each row's encoding from prev when the row is the same, and
// returns the rows' encodings for the next call.
func encodeOverview(ov *railyard.Overview, prev map[*railyard.OverviewApplication][]byte) ([]byte, map[*railyard.OverviewApplication][]byte, error) {
	rows := make(map[*railyard.OverviewApplication][]byte, len(ov.Applications))
	var buf bytes.Buffer
	buf.WriteString(`{"environments":`)
	if err := encodeCompact(&buf, nonNil(ov.Environments)); err != nil {
		return nil, nil, err
	}
	buf.WriteString(`,"applications":`)
	if ov.Applications == nil {
		buf.WriteString("null")
	} else {
		buf.WriteByte('[')
		for i, row := range ov.Applications {
			enc, ok := prev[row]
			if !ok {
				var rb bytes.Buffer
				if err := encodeCompact(&rb, row); err != nil {
					return nil, nil, err
				}
				enc = rb.Bytes()
			}
			rows[row] = enc
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(enc)
		}
		buf.WriteByte(']')
	}
	buf.WriteString("}\n")
	return buf.Bytes(), rows, nil
}

// encodeCompact appends v's JSON as writeJSON encodes it, without the
// newline.
func encodeCompact(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode overview: %w", err)
	}
	buf.Truncate(buf.Len() - 1)
	return nil
}

var overviewDoc = &operation{
	Tag:     "overview",
	Summary: "What runs where",
	Description: "Every application in every environment: the running and queued version and every unexpired lock that holds " +
		"the application back there (environment, application and team locks). Read in one store transaction. " +
		"Compressed with gzip when the request accepts it (Accept-Encoding: gzip).",
	Responses: []response{{200, "The overview.", railyard.Overview{}}},
}
