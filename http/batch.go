package http

import (
	"fmt"
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// batchRequest is the body of POST /api/v1/batch.
type batchRequest struct {
	Commands []railyard.BatchEntry `json:"commands"`
}

// batchResponse holds one result per command, in order.
type batchResponse struct {
	Results []*railyard.Result `json:"results"`
}

// handleBatch applies several commands in one transaction: all or none.
func (s *Server) handleBatch(w nethttp.ResponseWriter, r *nethttp.Request) error {
	var req batchRequest
	if err := s.decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Commands) > railyard.MaxBatchCommands {
		return fieldError("commands", "commands: a batch holds at most %d commands, got %d", railyard.MaxBatchCommands, len(req.Commands))
	}
	cmds := make([]railyard.Command, len(req.Commands))
	for i, entry := range req.Commands {
		cmd, err := railyard.DecodeCommand(entry.Kind, entry.Params)
		if err != nil {
			return batchEntryError(i, entry.Kind, err)
		}
		if cr, ok := cmd.(*railyard.CreateRelease); ok {
			if err := s.checkManifestSizes(cr.Manifests); err != nil {
				return batchEntryError(i, entry.Kind, err)
			}
		}
		if t, ok := cmd.(*railyard.ReleaseTrain); ok && t.ScheduledAt != nil {
			return batchEntryError(i, entry.Kind, fieldError("scheduledAt", "scheduledAt is set by Railyard's scheduler only: leave it out"))
		}
		cmds[i] = cmd
	}
	actor, err := s.actor(r)
	if err != nil {
		return err
	}
	results, err := s.engine.Apply(r.Context(), actor, cmds...)
	if err != nil {
		return err
	}
	for i, res := range results {
		results[i] = answerResult(res, cmds[i])
	}
	writeJSON(w, nethttp.StatusOK, batchResponse{Results: results})
	return nil
}

// batchEntryError places a decoding error of one entry the way the
// engine places the errors of the commands it applies ("commands[i].field"),
// so clients handle both alike.
func batchEntryError(i int, kind string, err error) error {
	e := railyard.AsError(err)
	if e == nil {
		return err
	}
	cp := *e
	cp.Message = fmt.Sprintf("command %d (%s): %s", i+1, railyard.Truncate(kind, 40), e.Message)
	switch {
	case e.Field == "kind":
		cp.Field = fmt.Sprintf("commands[%d].kind", i)
	case e.Field != "":
		cp.Field = fmt.Sprintf("commands[%d].%s", i, e.Field)
	default:
		cp.Field = fmt.Sprintf("commands[%d]", i)
	}
	return &cp
}

var batchDoc = &operation{
	Tag:     "batch",
	Summary: "Apply several commands atomically",
	Description: "Applies up to 100 commands in order, in one transaction: all of them, or none. Each entry is " +
		"`{\"kind\": <command kind>, \"params\": <the command's fields>}` with kind one of environment.put, environment.delete, " +
		"release.create, application.delete, deploy, lock.create, lock.delete, release-train, rollback; params are the command's JSON fields " +
		"(unknown fields are refused; a release-train's `scheduledAt` is refused: only Railyard's scheduler sets it). On the first failing command the answer is that command's error, its message prefixed " +
		"with the command's position and its field with `commands[i]`; nothing is applied.",
	Request:   batchRequest{},
	Responses: []response{{200, "Every command was applied; one result per command.", batchResponse{}}},
	Errors:    []int{400, 404, 409, 413, 415, 423},
}
