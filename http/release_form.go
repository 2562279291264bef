package http

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"sync"
	"unicode/utf8"

	railyard "github.com/railyard-cd/railyard"
)

// maxFormTextBytes bounds one text field of a release upload: the longest
// one the engine accepts is the source message.
const maxFormTextBytes = railyard.MaxSourceMessageBytes

// releaseFormFields are the text fields of Kuberpult's release upload.
// Each may appear at most once. The ignored ones are accepted so that
// pipelines written for Kuberpult keep working, and are documented as
// ignored in docs/api.md.
var releaseFormFields = map[string]bool{
	"application": true, "version": true, "team": true, "source_commit_id": true, "source_author": true,
	"source_message": true, "source_branch": true, "display_version": true, "ci_link": true,
	// Accepted and ignored:
	"previous_commit_id": true, "revision": true, "is_prepublish": true,
	"deploy_to_downstream_environments": true, "source_repo_url": true,
}

// releaseForm is a parsed Kuberpult release upload.
type releaseForm struct {
	Release railyard.CreateRelease
	// Signatures are the environments that came with a signatures[<env>]
	// part; the endpoint decides whether it takes them.
	Signatures []string
}

// errFormTooLarge is returned by the form's reader past the total limit.
var errFormTooLarge = errors.New("multipart body larger than the limit")

// limitedReader reads at most n bytes, then fails with errFormTooLarge
// instead of returning EOF, so a truncated upload cannot look complete.
type limitedReader struct {
	r io.Reader
	n int64
}

// Read implements io.Reader.
func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe one byte: only more input than the limit is an error.
		var one [1]byte
		n, err := io.ReadFull(l.r, one[:])
		switch {
		case n > 0:
			return 0, errFormTooLarge
		case err == io.EOF:
			return 0, io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// parseRelease reads a Kuberpult release upload (multipart/form-data)
// while it streams in: each manifest is bounded by maxManifest, each text
// field by maxFormTextBytes, and the whole body by maxTotal, so no input
// is ever buffered beyond those limits. It refuses text fields given
// twice, manifests for one environment given twice, and text that is not
// UTF-8. Every error it returns is a *railyard.Error.
func parseRelease(contentType string, body io.Reader, maxManifest, maxTotal int64) (*releaseForm, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" {
		return nil, railyard.Errorf(railyard.EUNSUPPORTED, "Content-Type %q is not supported: send the release as multipart/form-data", railyard.Truncate(contentType, 100)).WithField("Content-Type")
	}
	if params["boundary"] == "" {
		return nil, fieldError("Content-Type", "Content-Type multipart/form-data needs a boundary parameter")
	}
	mr := multipart.NewReader(&limitedReader{r: body, n: maxTotal}, params["boundary"])
	form := &releaseForm{Release: railyard.CreateRelease{Manifests: map[string]string{}}}
	text := map[string]string{}
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, formError(err, maxTotal)
		}
		if err := form.readPart(part, text, maxManifest, maxTotal); err != nil {
			return nil, err
		}
	}
	if err := form.setText(text); err != nil {
		return nil, err
	}
	return form, nil
}

// readPart reads one part into the form: a manifest, a signature or a
// text field. Parts with other names are skipped unread (the multipart
// reader discards them, within the total limit).
func (f *releaseForm) readPart(part *multipart.Part, text map[string]string, maxManifest, maxTotal int64) error {
	name := part.FormName()
	if env, ok := bracketed(name, "manifests"); ok {
		if _, dup := f.Release.Manifests[env]; dup {
			return fieldError(name, "%s is given more than once", railyard.Truncate(name, 80))
		}
		data, err := readLimited(part, name, maxManifest, maxTotal)
		if err != nil {
			return err
		}
		f.Release.Manifests[env] = data
		return nil
	}
	if env, ok := bracketed(name, "signatures"); ok {
		if _, err := readLimited(part, name, maxManifest, maxTotal); err != nil {
			return err
		}
		f.Signatures = append(f.Signatures, env)
		return nil
	}
	if !releaseFormFields[name] {
		return nil
	}
	if _, dup := text[name]; dup {
		return fieldError(name, "field %s may be given at most once", name)
	}
	data, err := readLimited(part, name, maxFormTextBytes, maxTotal)
	if err != nil {
		return err
	}
	text[name] = data
	return nil
}

// bracketed matches "prefix[inner]" and returns inner.
func bracketed(name, prefix string) (string, bool) {
	if !strings.HasPrefix(name, prefix+"[") || !strings.HasSuffix(name, "]") {
		return "", false
	}
	return name[len(prefix)+1 : len(name)-1], true
}

// partBuffers are the buffers readLimited reads parts into. A pooled
// buffer has grown to the size of the parts it read, so a 10 KB manifest is
// read without the copies of a growing buffer and copied once, into its
// string. Buffers larger than maxPooledPart are left to the collector, so
// that one large upload does not stay in memory.
var partBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledPart is the largest buffer partBuffers keeps.
const maxPooledPart = 256 << 10

// readLimited reads a part of at most limit bytes of UTF-8 text.
func readLimited(part *multipart.Part, name string, limit, maxTotal int64) (string, error) {
	buf := partBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledPart {
			buf.Reset()
			partBuffers.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(part, limit+1)); err != nil {
		return "", formError(err, maxTotal)
	}
	data := buf.Bytes()
	if int64(len(data)) > limit {
		return "", railyard.Errorf(railyard.ETOOLARGE, "%s is larger than the limit of %d bytes", railyard.Truncate(name, 80), limit).WithField(name)
	}
	if !utf8.Valid(data) {
		return "", fieldError(name, "%s is not UTF-8 text", railyard.Truncate(name, 80))
	}
	return string(data), nil
}

// formError turns an error of reading the body into a domain error.
func formError(err error, maxTotal int64) error {
	if errors.Is(err, errFormTooLarge) {
		return railyard.Errorf(railyard.ETOOLARGE, "request body is larger than the limit of %d bytes", maxTotal).WithField("body")
	}
	if e := requestError(err); railyard.AsError(e) != nil {
		return e
	}
	return fieldError("body", "body is not valid multipart/form-data: %v", err)
}

// setText copies the text fields into the release. The engine validates
// them; only the version is parsed here, since it is a number on the
// wire.
func (f *releaseForm) setText(text map[string]string) error {
	r := &f.Release
	r.Application = text["application"]
	r.Team = text["team"]
	r.SourceCommitID = text["source_commit_id"]
	r.SourceAuthor = text["source_author"]
	r.SourceMessage = text["source_message"]
	r.SourceBranch = text["source_branch"]
	r.DisplayVersion = text["display_version"]
	r.CILink = text["ci_link"]
	if r.Application == "" {
		return fieldError("application", "application is required: the name of the application to release")
	}
	if v, ok := text["version"]; ok {
		n, err := railyard.ParseVersion(v)
		if err != nil {
			return err
		}
		r.Version = n
	}
	return nil
}
