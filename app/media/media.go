// Package media keeps files in blob storage (a directory by default, any gocloud.dev/blob
// bucket by URL): the photos, voice notes and documents customers send, and the attachments
// agents send back. Each file has a row in the media table; its blob key holds the org id
// and a random part, so a key of one org is never guessed from another's.
package media

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs://bucket (Google Cloud Storage, default credentials)
	_ "gocloud.dev/blob/memblob" // mem:// for tests and throwaway instances
	_ "gocloud.dev/blob/s3blob"  // s3://bucket (AWS and S3-compatible servers: ?endpoint=…&use_path_style=true)

	"masteria/app/model"
	"masteria/app/store"
)

// Largest files WhatsApp takes, by message kind (Cloud API "supported media types"): the
// same caps hold for every channel, so a file accepted here can go out anywhere.
var Limits = map[string]int64{
	"image":    5 << 20,
	"audio":    16 << 20,
	"video":    16 << 20,
	"document": 100 << 20,
}

// MaxSize is the largest file of any kind.
const MaxSize = 100 << 20

// Allowed lists the types an agent may attach: those the WhatsApp Cloud API sends.
var Allowed = map[string]bool{
	"image/jpeg": true, "image/png": true,
	"audio/aac": true, "audio/amr": true, "audio/mpeg": true, "audio/mp4": true, "audio/ogg": true,
	"video/mp4": true, "video/3gpp": true,
	"text/plain": true, "application/pdf": true,
	"application/msword": true, "application/vnd.ms-excel": true, "application/vnd.ms-powerpoint": true,
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document":   true,
	"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":         true,
	"application/vnd.openxmlformats-officedocument.presentationml.presentation": true,
}

// Keys keeps one secret per org (account.Secrets): here, the key that signs media links.
type Keys interface {
	Get(ctx context.Context, orgID int64, name string) (string, error)
	Put(ctx context.Context, orgID int64, name, value string) error
}

// Service stores and reads files.
type Service struct {
	st      *store.Store
	bucket  *blob.Bucket
	keys    Keys
	baseURL string
	// linkBase starts the signed links providers fetch: the app's URL, or a CDN's whose
	// origin is the app.
	linkBase string
	now      func() time.Time
}

// New returns the media service over an open bucket. baseURL is the app's public URL, for
// signed links.
func New(st *store.Store, bucket *blob.Bucket, keys Keys, baseURL string) *Service {
	base := strings.TrimRight(baseURL, "/")
	return &Service{st: st, bucket: bucket, keys: keys, baseURL: base, linkBase: base, now: time.Now}
}

// SetCDN makes signed links start with a CDN's base URL (CloudFront or any) whose origin
// is this app, so providers fetch files from the CDN; empty keeps the app's URL.
func (s *Service) SetCDN(base string) {
	if base = strings.TrimRight(base, "/"); base != "" {
		s.linkBase = base
	}
}

// OpenBucket opens the bucket at rawURL (file:///path, mem://, s3://, gs://); empty means the
// directory "media" under dataDir.
func OpenBucket(ctx context.Context, rawURL, dataDir string) (*blob.Bucket, error) {
	if rawURL == "" {
		dir, err := filepath.Abs(filepath.Join(dataDir, "media"))
		if err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		// Temporary files next to the final ones: the data dir may be another mount.
		return fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, DirFileMode: 0o750})
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("media: open %s: %w", redact(rawURL), err)
	}
	return b, nil
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		p.RawQuery, p.User = "", nil
		return p.String()
	}
	return "bucket"
}

// BaseType is a MIME type without parameters, lower case; "" when unreadable.
func BaseType(t string) string {
	base, _, err := mime.ParseMediaType(t)
	if err != nil {
		return ""
	}
	return strings.ToLower(base)
}

// Check says whether an agent may send a file of this type and size, as a field error on
// "file" with the reason.
func Check(mimeType string, size int64) error {
	if !Allowed[mimeType] {
		return model.FieldError("file", "media.error.type")
	}
	if size > Limits[model.MediaKind(mimeType)] {
		return model.FieldError("file", "media.error.too_large")
	}
	if size == 0 {
		return model.FieldError("file", "media.error.empty")
	}
	return nil
}

// Put stores a file an agent attaches: only the types WhatsApp sends, within the size of
// its kind. A refused file leaves nothing behind. mimeType may be empty or generic; the
// first bytes then decide.
func (s *Service) Put(ctx context.Context, orgID int64, r io.Reader, mimeType, filename string) (model.Media, error) {
	head, r, err := peek(r)
	if err != nil {
		return model.Media{}, err
	}
	t := BaseType(mimeType)
	if !Allowed[t] {
		t = BaseType(http.DetectContentType(head))
	}
	if !Allowed[t] {
		return model.Media{}, model.FieldError("file", "media.error.type")
	}
	m, err := s.put(ctx, orgID, r, t, filename, Limits[model.MediaKind(t)])
	if errors.Is(err, errTooLarge) {
		return m, model.FieldError("file", "media.error.too_large")
	}
	if err == nil && m.Size == 0 {
		s.drop(ctx, m)
		return model.Media{}, model.FieldError("file", "media.error.empty")
	}
	return m, err
}

// PutInbound stores a file a customer sent, whatever its type, up to MaxSize. The same
// bytes stored before by the org (a download that ran again) give the earlier row.
func (s *Service) PutInbound(ctx context.Context, orgID int64, r io.Reader, mimeType, filename string) (model.Media, error) {
	head, r, err := peek(r)
	if err != nil {
		return model.Media{}, err
	}
	t := BaseType(mimeType)
	if t == "" || t == "application/octet-stream" {
		t = BaseType(http.DetectContentType(head))
	}
	m, err := s.put(ctx, orgID, r, t, filename, MaxSize)
	if err != nil {
		return m, err
	}
	if old, err := s.st.MediaByHash(ctx, orgID, m.SHA256, m.Size); err == nil && old.ID != m.ID {
		s.drop(ctx, m)
		return old, nil
	}
	return m, nil
}

var errTooLarge = errors.New("media: file too large")

func peek(r io.Reader) ([]byte, io.Reader, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("media: reading the file: %w", err)
	}
	head = head[:n]
	return head, io.MultiReader(strings.NewReader(string(head)), r), nil
}

// put writes the blob (aborted past limit bytes) and records it.
func (s *Service) put(ctx context.Context, orgID int64, r io.Reader, mimeType, filename string, limit int64) (model.Media, error) {
	key := fmt.Sprintf("org/%d/%s", orgID, random(16))
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{ContentType: mimeType})
	if err != nil {
		return model.Media{}, fmt.Errorf("media: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = errTooLarge
	}
	if err != nil {
		cancel() // a cancelled write leaves no blob
		_ = w.Close()
		if errors.Is(err, errTooLarge) {
			return model.Media{}, err
		}
		return model.Media{}, fmt.Errorf("media: writing: %w", err)
	}
	if err := w.Close(); err != nil {
		return model.Media{}, fmt.Errorf("media: writing: %w", err)
	}
	m, err := s.st.CreateMedia(ctx, model.Media{OrgID: orgID, Key: key, MIME: mimeType, Size: n,
		Filename: cleanName(filename), SHA256: hex.EncodeToString(h.Sum(nil))})
	if err != nil {
		_ = s.bucket.Delete(context.WithoutCancel(ctx), key)
		return model.Media{}, err
	}
	return m, nil
}

// drop removes a file just stored that is not kept (empty, or stored before).
func (s *Service) drop(ctx context.Context, m model.Media) {
	ctx = context.WithoutCancel(ctx)
	_ = s.st.DeleteMedia(ctx, m.OrgID, m.ID)
	_ = s.bucket.Delete(ctx, m.Key)
}

// cleanName keeps a file name for display and downloads: its last path element, without
// control characters, at most 200 characters.
func cleanName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '"' {
			return -1
		}
		return r
	}, name)
	if r := []rune(name); len(r) > 200 {
		name = string(r[:200])
	}
	return name
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Get returns a file's row, of this org only.
func (s *Service) Get(ctx context.Context, orgID, id int64) (model.Media, error) {
	return s.st.Media(ctx, orgID, id)
}

// Open returns a file of the org and a reader of its bytes; model.ErrNotFound for another
// org's id.
func (s *Service) Open(ctx context.Context, orgID, id int64) (model.Media, io.ReadCloser, error) {
	m, err := s.st.Media(ctx, orgID, id)
	if err != nil {
		return m, nil, err
	}
	rc, err := s.read(ctx, m)
	return m, rc, err
}

func (s *Service) read(ctx context.Context, m model.Media) (io.ReadCloser, error) {
	rc, err := s.bucket.NewReader(ctx, m.Key, nil)
	if err != nil {
		return nil, fmt.Errorf("media: reading %d: %w", m.ID, err)
	}
	return rc, nil
}

// LinkTTL is how long a signed link works: long enough for a queued send and the
// provider's own retries.
const LinkTTL = 24 * time.Hour

const linkKeyName = "media_link_key"

// SignedURL is a public link to a file that works without a session until it expires, for
// providers that fetch attachments themselves (Twilio MMS): BaseURL/media/{id}/{expiry}/{sig},
// or the CDN's base URL in place of the app's.
func (s *Service) SignedURL(ctx context.Context, m model.Media) (string, error) {
	key, err := s.linkKey(ctx, m.OrgID, true)
	if err != nil {
		return "", err
	}
	exp := strconv.FormatInt(s.now().Add(LinkTTL).Unix(), 10)
	return fmt.Sprintf("%s/media/%d/%s/%s", s.linkBase, m.ID, exp, sign(key, m.ID, exp)), nil
}

// OpenSigned checks a signed link's expiry and signature and opens its file; any failure
// is model.ErrNotFound, so a link tells nothing about files it does not prove.
func (s *Service) OpenSigned(ctx context.Context, id int64, exp, sig string) (model.Media, io.ReadCloser, error) {
	until, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || s.now().Unix() > until {
		return model.Media{}, nil, model.ErrNotFound
	}
	m, err := s.st.MediaForLink(ctx, id)
	if err != nil {
		return m, nil, err
	}
	key, err := s.linkKey(ctx, m.OrgID, false)
	if errors.Is(err, model.ErrNotFound) {
		return model.Media{}, nil, model.ErrNotFound
	}
	if err != nil {
		return model.Media{}, nil, err
	}
	if !hmac.Equal([]byte(sig), []byte(sign(key, id, exp))) {
		return model.Media{}, nil, model.ErrNotFound
	}
	rc, err := s.read(ctx, m)
	return m, rc, err
}

func sign(key []byte, id int64, exp string) string {
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "media:%d:%s", id, exp)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// linkKey is the org's signing key, made on first use when create is set.
func (s *Service) linkKey(ctx context.Context, orgID int64, create bool) ([]byte, error) {
	v, err := s.keys.Get(ctx, orgID, linkKeyName)
	if errors.Is(err, model.ErrNotFound) && create {
		if err := s.keys.Put(ctx, orgID, linkKeyName, random(32)); err != nil {
			return nil, err
		}
		// Read back what is stored: two first uses at once end with one key.
		v, err = s.keys.Get(ctx, orgID, linkKeyName)
	}
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}
