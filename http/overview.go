package http

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	nethttp "net/http"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/flate"

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
// 30 MB of JSON, whose encoding and compression cost far more than the
// engine's snapshot (BENCHMARKS.md, "Overview at scale"). The engine's
// snapshots share the rows that did not change, and rows are never
// modified, so each row's encoding is kept by its pointer and only new
// rows are encoded; the gzip form is made of pieces of gzipPieceRows rows
// compressed on their own, and only pieces with a new row are compressed
// again (see gzipBody). The whole body, and its gzip form, are kept for
// the snapshot they encode.
type overviewBody struct {
	mu sync.Mutex
	ov *railyard.Overview
	// head is the JSON before the first row, tail after the last; enc
	// the rows' encodings, rows the same by the row's pointer.
	head, tail []byte
	enc        [][]byte
	rows       map[*railyard.OverviewApplication][]byte
	// json and gz are the body, made when first asked for.
	json, gz []byte
	pieces   []gzipPiece
}

// body returns the encoding of ov, gzip-compressed if gz. It is exactly
// what writeJSON writes for ov (with Environments never null).
func (b *overviewBody) body(ov *railyard.Overview, gz bool) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ov != ov {
		if err := b.encode(ov); err != nil {
			return nil, err
		}
		b.ov, b.json, b.gz = ov, nil, nil
	}
	if gz {
		if b.gz == nil {
			b.gz = b.gzipBody()
		}
		return b.gz, nil
	}
	if b.json == nil {
		b.json = b.plain()
	}
	return b.json, nil
}

// encode encodes ov's parts as json.Encoder (HTML not escaped) writes
// them, taking each row's encoding from the last call when the row is the
// same.
func (b *overviewBody) encode(ov *railyard.Overview) error {
	rows := make(map[*railyard.OverviewApplication][]byte, len(ov.Applications))
	enc := make([][]byte, len(ov.Applications))
	var head bytes.Buffer
	head.WriteString(`{"environments":`)
	if err := encodeCompact(&head, nonNil(ov.Environments)); err != nil {
		return err
	}
	head.WriteString(`,"applications":`)
	tail := "]}\n"
	if ov.Applications == nil {
		head.WriteString("null")
		tail = "}\n"
	} else {
		head.WriteByte('[')
	}
	for i, row := range ov.Applications {
		e, ok := b.rows[row]
		if !ok {
			var rb bytes.Buffer
			if err := encodeCompact(&rb, row); err != nil {
				return err
			}
			e = rb.Bytes()
		}
		rows[row], enc[i] = e, e
	}
	b.head, b.tail, b.enc, b.rows = head.Bytes(), []byte(tail), enc, rows
	return nil
}

// plain joins the parts: the head, the rows separated by commas, the tail.
func (b *overviewBody) plain() []byte {
	n := len(b.head) + len(b.tail) + len(b.enc)
	for _, e := range b.enc {
		n += len(e)
	}
	out := make([]byte, 0, n)
	out = append(out, b.head...)
	for i, e := range b.enc {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, e...)
	}
	return append(out, b.tail...)
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

// gzipPieceRows is how many rows one piece of the gzip form holds: at 50
// environments about 300 KB of JSON, so that compressing pieces apart
// costs almost nothing in size.
const gzipPieceRows = 64

// gzipPiece is rows of the body compressed on their own: raw DEFLATE
// ending in a sync flush (byte-aligned, not final), so pieces concatenate
// into one valid stream. A fresh compressor never refers back before its
// own start, so each piece decodes after any other.
type gzipPiece struct {
	rows []*railyard.OverviewApplication
	z    []byte
}

// gzipBody returns the body as one gzip member (RFC 1952): the header,
// the head, the row pieces and the tail compressed apart, an empty final
// block, the CRC-32 and the size of the JSON. Row pieces whose rows are
// those of the last call are reused; the JSON itself is never joined.
func (b *overviewBody) gzipBody() []byte {
	rows := b.ov.Applications
	var out bytes.Buffer
	out.Write([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}) // deflate, no name, no time, unknown OS
	out.Write(deflatePiece([][]byte{b.head}, false))
	crc := crc32.ChecksumIEEE(b.head)
	size := len(b.head) + len(b.tail)
	pieces := make([]gzipPiece, 0, (len(rows)+gzipPieceRows-1)/gzipPieceRows)
	for lo := 0; lo < len(rows); lo += gzipPieceRows {
		hi := min(lo+gzipPieceRows, len(rows))
		k := len(pieces)
		p := gzipPiece{rows: rows[lo:hi]}
		if k < len(b.pieces) && slices.Equal(b.pieces[k].rows, p.rows) {
			p.z = b.pieces[k].z
		} else {
			p.z = deflatePiece(b.enc[lo:hi], lo > 0)
		}
		for i := lo; i < hi; i++ {
			if i > 0 {
				crc = crc32.Update(crc, crc32.IEEETable, comma)
				size++
			}
			crc = crc32.Update(crc, crc32.IEEETable, b.enc[i])
			size += len(b.enc[i])
		}
		pieces = append(pieces, p)
		out.Write(p.z)
	}
	b.pieces = pieces
	out.Write(deflatePiece([][]byte{b.tail}, false))
	crc = crc32.Update(crc, crc32.IEEETable, b.tail)
	out.Write([]byte{0x03, 0x00}) // an empty final block with fixed codes
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(size))
	out.Write(trailer[:])
	return out.Bytes()
}

var comma = []byte{','}

// deflatePiece compresses parts on its own, joined by commas and
// preceded by one if lead, ending in a sync flush.
func deflatePiece(parts [][]byte, lead bool) []byte {
	var buf bytes.Buffer
	fw := flatePool.Get().(*flate.Writer)
	defer flatePool.Put(fw)
	fw.Reset(&buf)
	// Writes to a bytes.Buffer do not fail.
	for i, p := range parts {
		if i > 0 || lead {
			_, _ = fw.Write(comma)
		}
		_, _ = fw.Write(p)
	}
	_ = fw.Flush()
	return buf.Bytes()
}

// flatePool recycles compressors, which are large.
var flatePool = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	return fw
}}

var overviewDoc = &operation{
	Tag:     "overview",
	Summary: "What runs where",
	Description: "Every application in every environment: the running and queued version and every unexpired lock that holds " +
		"the application back there (environment, application and team locks). Read in one store transaction. " +
		"Compressed with gzip when the request accepts it (Accept-Encoding: gzip).",
	Responses: []response{{200, "The overview.", railyard.Overview{}}},
}
