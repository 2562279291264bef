package ui

import (
	"net/http"
	"strconv"

	railyard "github.com/railyard-cd/railyard"
)

// blockedView is a manual deploy or rollback that locks or closed deploy
// windows refused: what was asked, and what blocks it. The page offers to
// do it anyway (lockBehavior ignore) or to queue it.
type blockedView struct {
	// Action is "deploy" or "rollback": the form path to send again.
	Action      string
	App, Env    string
	Version     int64
	VersionText string
	Message     string
	Blockers    []blockerView
}

// blockerView is one lock or window in words.
type blockerView struct {
	Kind        railyard.LockKind
	ID          string
	By          string
	Message     string
	Window      string
	Until       string
	Description string
}

// newBlockedView describes a refused manual deploy from its ELOCKED error.
func newBlockedView(action, app, env string, version int64, versionText string, e *railyard.Error) *blockedView {
	b := &blockedView{Action: action, App: app, Env: env, Version: version, VersionText: versionText, Message: e.Message}
	for _, bl := range e.Blockers {
		v := blockerView{Kind: bl.Kind, Description: bl.Description}
		if bl.Lock != nil {
			v.ID, v.By, v.Message = bl.Lock.ID, bl.Lock.CreatedBy.Name, bl.Lock.Message
		}
		if w := bl.Window; w != nil {
			v.Window = w.Kind + " window " + strconv.Quote(w.Schedule) + " for " + w.Duration
			if w.TimeZone != "" {
				v.Window += " (" + w.TimeZone + ")"
			}
		}
		if bl.Until != nil {
			v.Until = utcLabel(*bl.Until)
		}
		b.Blockers = append(b.Blockers, v)
	}
	return b
}

// lockBehaviorOf reads the lockBehavior of a deploy form: "fail" unless
// the user confirmed "ignore" or chose "queue".
func lockBehaviorOf(r *http.Request) railyard.LockBehavior {
	switch b := railyard.LockBehavior(r.PostForm.Get("lockBehavior")); b {
	case railyard.LockBehaviorIgnore, railyard.LockBehaviorQueue:
		return b
	}
	return railyard.LockBehaviorFail
}

// redirectResult sets the flash message of an applied command and
// redirects to next: the event's description, or what the command says
// when nothing changed.
func (h *Handler) redirectResult(w http.ResponseWriter, r *http.Request, next string, res *railyard.Result, unchanged string) {
	msg := unchanged
	switch {
	case res.Event != nil:
		msg = res.Event.Summary()
	case res.Train != nil:
		msg = "Nothing changed. " + res.Train.Description
	}
	h.setFlash(w, r, flashSuccess, msg)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// redirectError sets an error flash and redirects to next: for domain
// errors that the page the user came from can explain (a branch
// restriction, a missing manifest).
func (h *Handler) redirectError(w http.ResponseWriter, r *http.Request, next string, err error) {
	h.setFlash(w, r, flashError, railyard.ErrorMessage(err))
	http.Redirect(w, r, next, http.StatusSeeOther)
}
