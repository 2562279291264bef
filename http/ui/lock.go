package ui

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	railyard "github.com/railyard-cd/railyard"
)

// handleCreateApplicationLock handles POST /ui/apps/{app}/locks: lock the
// application in one environment. Invalid input sends the application page
// back with the error next to the field and the values kept.
func (h *Handler) handleCreateApplicationLock(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	app, env := r.PathValue("app"), r.PostForm.Get("env")
	cmd := &railyard.CreateLock{LockTarget: railyard.LockTarget{Kind: railyard.LockApplication, Environment: env, Application: app}}
	form := newFormState("lock-"+env, r.PostForm)
	res, err := h.createLock(r, actor, cmd)
	if err == nil {
		h.redirectResult(w, r, "/apps/"+app+"#env-"+env, res, "")
		return nil
	}
	if railyard.ErrorCode(err) != railyard.EINVALID {
		return err // ENOTFOUND: the application or environment is gone
	}
	form.fail(err, lockFields)
	p.Status = http.StatusBadRequest
	return h.renderApplication(w, r, p, app, form, nil)
}

// handleCreateEnvironmentLock handles POST /ui/envs/{env}/locks: an
// environment lock, a team lock in the environment, or a lock of the
// environment's whole group.
func (h *Handler) handleCreateEnvironmentLock(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	env := r.PathValue("env")
	form := newFormState("lock", r.PostForm)
	cmd := &railyard.CreateLock{LockTarget: railyard.LockTarget{Environment: env}}
	switch kind := railyard.LockKind(r.PostForm.Get("kind")); kind {
	case railyard.LockTeam:
		cmd.LockTarget.Kind, cmd.Team = kind, r.PostForm.Get("team")
		if cmd.Team == "" {
			form.Errors["team"] = "Choose the team to lock."
		}
	case railyard.LockGroup:
		e, err := h.engine.FindEnvironment(r.Context(), env)
		if err != nil {
			return err
		}
		cmd.LockTarget.Kind, cmd.Environment, cmd.Group = kind, "", e.Config.EnvironmentGroup
	default:
		cmd.LockTarget.Kind = railyard.LockEnvironment
	}
	if len(form.Errors) == 0 {
		res, err := h.createLock(r, actor, cmd)
		if err == nil {
			h.redirectResult(w, r, "/envs/"+env, res, "")
			return nil
		}
		if railyard.ErrorCode(err) != railyard.EINVALID {
			return err
		}
		form.fail(err, lockFields)
	}
	p.Status = http.StatusBadRequest
	return h.renderEnvironment(w, r, p, env, form)
}

// createLock fills in the fields every lock form has (message, id,
// expiry) and applies the lock.
func (h *Handler) createLock(r *http.Request, actor railyard.Actor, cmd *railyard.CreateLock) (*railyard.Result, error) {
	now := h.now()
	cmd.Message = strings.TrimSpace(r.PostForm.Get("message"))
	cmd.ID = strings.TrimSpace(r.PostForm.Get("id"))
	if cmd.ID == "" {
		cmd.ID = newLockID(now)
	}
	exp, err := parseExpiry(r.PostForm.Get("expires"), now)
	if err != nil {
		return nil, err
	}
	cmd.ExpiresAt = exp
	return h.engine.ApplyOne(r.Context(), actor, cmd)
}

// newLockID makes an id for a lock created without one: when, plus a
// little randomness so that two people locking in the same second do not
// replace each other's lock.
func newLockID(now time.Time) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return "ui-" + now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// handleDeleteLock handles POST /ui/locks/delete from every page that
// lists locks, and returns to it.
func (h *Handler) handleDeleteLock(w http.ResponseWriter, r *http.Request, p *page, actor railyard.Actor) error {
	f := r.PostForm
	cmd := &railyard.DeleteLock{LockTarget: railyard.LockTarget{Kind: railyard.LockKind(f.Get("kind")), Environment: f.Get("env"), ID: f.Get("id")}}
	switch cmd.LockTarget.Kind {
	case railyard.LockApplication:
		cmd.Application = f.Get("app")
	case railyard.LockTeam:
		cmd.Team = f.Get("team")
	}
	next := localPath(f.Get("next"), "/locks")
	res, err := h.engine.ApplyOne(r.Context(), actor, cmd)
	switch railyard.ErrorCode(err) {
	case "":
		h.redirectResult(w, r, next, res, "")
		return nil
	case railyard.ENOTFOUND:
		// Someone else was faster, or the lock expired: nothing to do,
		// and the page the user returns to shows the state.
		h.setFlash(w, r, flashError, "Lock "+cmd.ID+" in "+cmd.Environment+" no longer exists: it was deleted or expired meanwhile.")
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	case railyard.EINVALID:
		h.redirectError(w, r, next, err)
		return nil
	}
	return err
}
