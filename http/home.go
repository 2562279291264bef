package http

import (
	"bytes"
	"embed"
	nethttp "net/http"
)

// uiFS holds the web UI's templates; embedded so that the single binary
// serves them without files on disk.
//
//go:embed ui/home.html
var uiFS embed.FS

// homeView is the data of the home page template.
type homeView struct {
	Links []homeLink
}

// homeLink is one link on the home page.
type homeLink struct {
	Href, Text string
}

// handleHome renders the home page. It is rendered into a buffer first so
// that a template error becomes a 500 instead of half a page.
func (s *Server) handleHome(w nethttp.ResponseWriter, r *nethttp.Request) error {
	view := homeView{Links: []homeLink{
		{"/api/v1/overview", "what runs where (JSON)"},
		{"/api/v1/openapi.json", "the API description (OpenAPI 3.0)"},
	}}
	var buf bytes.Buffer
	if err := s.home.Execute(&buf, view); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(nethttp.StatusOK)
	_, _ = buf.WriteTo(w) // a client gone away is not an error to answer
	return nil
}

var homeDoc = &operation{
	Tag:         "service",
	Summary:     "Home page",
	Description: "A small HTML page saying Railyard is running, with links to the overview and this document. The web UI will live here.",
	Responses:   []response{{200, "The page.", htmlPage{}}},
}

var healthzDoc = &operation{
	Tag:         "service",
	Summary:     "Liveness",
	Description: "200 while the process is up. It checks nothing else.",
	Responses:   []response{{200, "Up.", statusResponse{}}},
}

var readyzDoc = &operation{
	Tag:         "service",
	Summary:     "Readiness",
	Description: "200 while the store answers a read; 503 otherwise.",
	Responses: []response{
		{200, "Ready.", statusResponse{}},
		{503, "The store does not answer.", statusResponse{}},
	},
}
