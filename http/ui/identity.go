package ui

import (
	"net/http"
	"net/mail"
	"strings"

	railyard "github.com/railyard-cd/railyard"
)

// identityView is the data of the "who are you" form.
type identityView struct {
	*page
	Name, Email, Next string
	Errors            map[string]string
}

// handleIdentity renders GET /ui/identity.
func (h *Handler) handleIdentity(w http.ResponseWriter, r *http.Request, p *page) error {
	if err := h.loadCommon(r, p); err != nil {
		return err
	}
	v := &identityView{page: p, Next: localPath(r.URL.Query().Get("next"), "/"), Errors: map[string]string{}}
	if p.Actor != nil {
		v.Name, v.Email = p.Actor.Name, p.Actor.Email
	}
	p.Title, p.Nav = "Who are you?", "identity"
	return h.render(w, r, "identity", v, p)
}

// handleSaveIdentity handles POST /ui/identity: it checks the name and
// e-mail, stores them in a cookie and returns to where the user was.
func (h *Handler) handleSaveIdentity(w http.ResponseWriter, r *http.Request, p *page) error {
	v := &identityView{page: p, Name: strings.TrimSpace(r.PostForm.Get("name")), Email: strings.TrimSpace(r.PostForm.Get("email")),
		Next: localPath(r.PostForm.Get("next"), "/"), Errors: map[string]string{}}
	if v.Name == "" {
		v.Errors["name"] = "Enter your name, as colleagues know you."
	}
	if addr, err := mail.ParseAddress(v.Email); err != nil || addr.Address != v.Email {
		v.Errors["email"] = "Enter an e-mail address such as jane.doe@example.com."
	}
	actor := railyard.Actor{Name: v.Name, Email: v.Email}
	if err := actor.Validate(); err != nil && len(v.Errors) == 0 {
		v.Errors["name"] = railyard.ErrorMessage(err)
	}
	if len(v.Errors) > 0 {
		if err := h.loadCommon(r, p); err != nil {
			return err
		}
		p.Title, p.Nav, p.Status = "Who are you?", "identity", http.StatusBadRequest
		return h.render(w, r, "identity", v, p)
	}
	writeActor(w, r, actor)
	h.setFlash(w, r, flashSuccess, "Thanks, "+actor.Name+": Railyard records you as the author of your changes.")
	http.Redirect(w, r, v.Next, http.StatusSeeOther)
	return nil
}
