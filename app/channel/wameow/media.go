package wameow

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"google.golang.org/protobuf/proto"

	"masteria/app/channel"
)

// downloadable is what every WhatsApp media message carries to fetch and decrypt its file.
type downloadable interface {
	GetDirectPath() string
	GetMediaKey() []byte
	GetFileEncSHA256() []byte
	GetFileSHA256() []byte
	GetFileLength() uint64
	GetMimetype() string
}

// mediaRef is an inbound file's download details, kept in the message's content as its
// "id" so the inbox's media job can ask the channel for it later (like a Meta media id).
type mediaRef struct {
	Kind       string `json:"k"`
	DirectPath string `json:"p"`
	MediaKey   []byte `json:"m"`
	EncSHA256  []byte `json:"e"`
	SHA256     []byte `json:"s"`
	Length     uint64 `json:"l"`
}

const refPrefix = "wa-media:"

func encodeRef(kind string, x downloadable) string {
	if x.GetDirectPath() == "" || len(x.GetMediaKey()) == 0 {
		return ""
	}
	b, _ := json.Marshal(mediaRef{Kind: kind, DirectPath: x.GetDirectPath(), MediaKey: x.GetMediaKey(),
		EncSHA256: x.GetFileEncSHA256(), SHA256: x.GetFileSHA256(), Length: x.GetFileLength()})
	return refPrefix + base64.RawURLEncoding.EncodeToString(b)
}

func decodeRef(ref string) (mediaRef, whatsmeow.MediaType, error) {
	var r mediaRef
	raw, ok := strings.CutPrefix(ref, refPrefix)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if !ok || err != nil || json.Unmarshal(b, &r) != nil || !strings.HasPrefix(r.DirectPath, "/") {
		return r, "", &channel.SendError{Code: "bad_media_ref", Title: "This file cannot be found on WhatsApp.", Permanent: true}
	}
	t, ok := mediaTypes[r.Kind]
	if !ok {
		return r, "", &channel.SendError{Code: "bad_media_ref", Title: "Unknown kind of file: " + r.Kind, Permanent: true}
	}
	return r, t, nil
}

// mediaTypes are the encryption key families of the inbox's media kinds.
var mediaTypes = map[string]whatsmeow.MediaType{
	"image": whatsmeow.MediaImage, "sticker": whatsmeow.MediaImage, "video": whatsmeow.MediaVideo,
	"audio": whatsmeow.MediaAudio, "document": whatsmeow.MediaDocument,
}

var _ channel.MediaFetcher = (*qrChannel)(nil)

// Fetch downloads and decrypts an inbound file through the linked session; on an instance
// that does not run it, ErrNotHere (the media job retries).
func (c *qrChannel) Fetch(ctx context.Context, ref string) (io.ReadCloser, string, error) {
	r, t, err := decodeRef(ref)
	if err != nil {
		return nil, "", err
	}
	cli := c.m.client(c.ch.ID)
	if cli == nil || !cli.IsLoggedIn() {
		return nil, "", ErrNotHere
	}
	data, err := cli.DownloadMediaWithPath(ctx, r.DirectPath, r.EncSHA256, r.SHA256, r.MediaKey, int(r.Length), t, "")
	if err != nil {
		return nil, "", fmt.Errorf("wameow: download: %w", err)
	}
	return io.NopCloser(bytes.NewReader(data)), "", nil
}

// uploader puts a file on WhatsApp's media servers (the live client's Upload).
type uploader func(ctx context.Context, data []byte, t whatsmeow.MediaType) (whatsmeow.UploadResponse, error)

// maxMedia bounds a file read into memory for upload: WhatsApp's own limit for documents.
const maxMedia = 100 << 20

// mediaMessage reads, uploads and wraps an outbound file as the message of its kind, the
// text being its caption.
func mediaMessage(ctx context.Context, o channel.Outbound, upload uploader) (*waE2E.Message, error) {
	t, ok := mediaTypes[o.Kind]
	if !ok || o.Kind == "sticker" || o.Media.Open == nil {
		return nil, &channel.SendError{Code: "unsupported", Title: "This kind of file cannot be sent from a linked phone.", Permanent: true}
	}
	rc, err := o.Media.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("wameow: open the file: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(rc, maxMedia+1))
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("wameow: read the file: %w", err)
	}
	if len(data) > maxMedia {
		return nil, &channel.SendError{Code: "too_large", Title: "The file is larger than WhatsApp takes.", Permanent: true}
	}
	up, err := upload(ctx, data, t)
	if err != nil {
		return nil, fmt.Errorf("wameow: upload: %w", err) // temporary: the send job retries
	}
	mime, caption := proto.String(o.Media.MIME), proto.String(o.Body)
	if o.Body == "" {
		caption = nil
	}
	size := proto.Uint64(uint64(len(data)))
	switch o.Kind {
	case "image":
		return &waE2E.Message{ImageMessage: &waE2E.ImageMessage{Caption: caption, Mimetype: mime, URL: &up.URL, DirectPath: &up.DirectPath,
			MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: size}}, nil
	case "video":
		return &waE2E.Message{VideoMessage: &waE2E.VideoMessage{Caption: caption, Mimetype: mime, URL: &up.URL, DirectPath: &up.DirectPath,
			MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: size}}, nil
	case "audio": // WhatsApp shows no caption on audio
		return &waE2E.Message{AudioMessage: &waE2E.AudioMessage{Mimetype: mime, URL: &up.URL, DirectPath: &up.DirectPath,
			MediaKey: up.MediaKey, FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: size}}, nil
	default:
		name := o.Media.Filename
		if name == "" {
			name = "file"
		}
		return &waE2E.Message{DocumentMessage: &waE2E.DocumentMessage{Caption: caption, Mimetype: mime, FileName: proto.String(name),
			Title: proto.String(name), URL: &up.URL, DirectPath: &up.DirectPath, MediaKey: up.MediaKey,
			FileEncSHA256: up.FileEncSHA256, FileSHA256: up.FileSHA256, FileLength: size}}, nil
	}
}
