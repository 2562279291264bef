package http

import (
	"bytes"
	nethttp "net/http"

	railyard "github.com/railyard-cd/railyard"
)

// kuberpultTrainRequest is the optional body of Kuberpult's release train
// PUT. Unknown fields are ignored, as on Kuberpult's lock endpoints.
type kuberpultTrainRequest struct {
	CILink string `json:"ciLink,omitempty"`
}

// kuberpultTrainResponse is the answer of Kuberpult's release train and
// its prognosis: Kuberpult's {"target", "team"} followed by Railyard's
// train result (its fields flattened in), and the event's id when the
// train changed something.
type kuberpultTrainResponse struct {
	Target  string `json:"target"`
	Team    string `json:"team"`
	EventID int64  `json:"eventId,omitempty"`
	*railyard.TrainResult
}

// handleKuberpultTrain returns the handler of Kuberpult's release train
// PUT (or, for prognosis, its GET) to the environment or group of the
// path, for the team of the query. Unknown query parameters are refused:
// a misspelt ?team= must not run the train for every team.
func (s *Server) handleKuberpultTrain(prognosis bool) handlerFunc {
	return func(w nethttp.ResponseWriter, r *nethttp.Request) error {
		q := r.URL.Query()
		if err := checkParams(q, "team"); err != nil {
			return err
		}
		t := &railyard.ReleaseTrain{Environment: r.PathValue("env"), Group: r.PathValue("group"), Team: q.Get("team")}
		out := kuberpultTrainResponse{Target: t.Environment + t.Group, Team: t.Team}
		if prognosis {
			plan, err := s.engine.Prognosis(r.Context(), t)
			if err != nil {
				return err
			}
			out.TrainResult = plan
			writeJSON(w, nethttp.StatusOK, out)
			return nil
		}
		var req kuberpultTrainRequest
		if err := s.decodeKuberpultTrainBody(r, &req); err != nil {
			return err
		}
		t.CILink = req.CILink
		actor, err := s.actor(r)
		if err != nil {
			return err
		}
		res, err := s.engine.ApplyOne(r.Context(), actor, t)
		if err != nil {
			return err
		}
		out.TrainResult = res.Train
		if res.Event != nil {
			out.EventID = res.Event.ID
		}
		writeJSON(w, nethttp.StatusOK, out)
		return nil
	}
}

// decodeKuberpultTrainBody reads the optional body of the train PUT: an
// empty one (with any Content-Type, or none) is no ciLink; a body must be
// JSON. A PUT cannot be sent across sites without the server's consent,
// so unlike the POST routes an empty body needs no Content-Type.
func (s *Server) decodeKuberpultTrainBody(r *nethttp.Request, v any) error {
	data, err := s.readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := requireJSON(r, false); err != nil {
		return err
	}
	return decodeLenient(data, v)
}

// kuberpultTrainDoc documents Kuberpult's release train to an environment
// or a group.
func kuberpultTrainDoc(group bool) *operation {
	target := "the environment"
	if group {
		target = "every member environment of the group"
	}
	return &operation{
		Tag:     "kuberpult",
		Summary: "Run a release train (Kuberpult-compatible)",
		Description: "Kuberpult's release train to " + target + ", for the team in `?team=` (all teams when absent or empty; other " +
			"query parameters are refused). The body is empty or `{\"ciLink\": …}` (unknown fields are ignored). Answers 200 with " +
			"Kuberpult's `target` and `team`, followed by Railyard's train result (every environment and application, each deployed, " +
			"queued with its blockers or skipped with a reason; see POST /api/v1/environments/{env}/release-train) and `eventId` when " +
			"the train changed something. 404 naming the field for an unknown environment, group or team; 400 for a target without upstream.",
		Query:        []param{{"team", "Only the applications of this team.", "string"}},
		Request:      kuberpultTrainRequest{},
		BodyOptional: true,
		Responses:    []response{{200, "The train ran.", kuberpultTrainResponse{}}},
		Errors:       []int{400, 404, 413, 415},
	}
}

var kuberpultPrognosisDoc = &operation{
	Tag:     "kuberpult",
	Summary: "Prognosis of a release train (Kuberpult-compatible)",
	Description: "What a release train to the environment would do now, for the team in `?team=`, without changing anything: " +
		"the same answer as the train's PUT with `dryRun` true and no `eventId`.",
	Query:     []param{{"team", "Only the applications of this team.", "string"}},
	Responses: []response{{200, "The plan.", kuberpultTrainResponse{}}},
	Errors:    []int{400, 404},
}
