package http

import (
	"context"
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// ExportStatusFunc reports the state of the Git export; the exporter's
// Status method is one.
type ExportStatusFunc func(ctx context.Context) (railyard.ExportStatus, error)

var exportStatusDoc = &operation{
	Tag:     "export",
	Summary: "How far the Git export lags",
	Description: "The newest event, the newest event the manifest repository's branch contains, how many wait and for how long, " +
		"the export's state (ok; retrying after a failure; stalled: a git command timed out; stopped: the repository needs a person), " +
		"the last export error (cleared by the next successful push), and counters of consecutive failures, panics and git timeouts. " +
		"Without Git export, enabled is false and state is disabled.",
	Responses: []response{{200, "The export state.", railyard.ExportStatus{}}},
}

// handleExportStatus answers GET /api/v1/export-status.
func (s *Server) handleExportStatus(w nethttp.ResponseWriter, r *nethttp.Request) error {
	st, err := s.exportStatus(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, nethttp.StatusOK, st)
	return nil
}

// exportStatus returns the exporter's state, or a disabled one with the
// newest event id when the server runs without export.
func (s *Server) exportStatus(ctx context.Context) (railyard.ExportStatus, error) {
	if s.opts.ExportStatus != nil {
		return s.opts.ExportStatus(ctx)
	}
	last, err := s.engine.LastEventID(ctx)
	return railyard.ExportStatus{State: railyard.ExportStateDisabled, LastEventID: last}, err
}
