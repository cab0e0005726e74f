package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"masteria/app/account"
	"masteria/app/media"
	"masteria/app/model"
	"masteria/app/store/storetest"
	"masteria/app/vault"
)

// s3Server starts an S3-compatible server over real HTTP with one bucket, and gives the
// media URL that reaches it.
func s3Server(t *testing.T, bucket string) (string, *s3mem.Backend) {
	t.Helper()
	be := s3mem.New()
	if err := be.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(be).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "masteria-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "masteria-test-secret")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	return "s3://" + bucket + "?region=us-east-1&use_path_style=true&disable_https=true&endpoint=" + srv.URL, be
}

func service(t *testing.T, rawURL, cdn string) (*media.Service, int64) {
	t.Helper()
	ctx := context.Background()
	st, _ := storetest.New(t)
	bucket, err := media.OpenBucket(ctx, rawURL, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	key, err := vault.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ring, err := vault.ParseKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	org, err := st.CreateOrg(ctx, "Loja S3")
	if err != nil {
		t.Fatal(err)
	}
	svc := media.New(st, bucket, account.NewSecrets(st, ring), "https://app.example.com")
	svc.SetCDN(cdn)
	return svc, org.ID
}

// Files kept in an S3 bucket: stored under the org's key, read back byte for byte, the
// same bytes from a customer give the same row, and a refused file leaves no object.
func TestMediaOnS3(t *testing.T) {
	ctx := context.Background()
	rawURL, be := s3Server(t, "masteria-media")
	svc, org := service(t, rawURL, "")
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 4096)...)
	m, err := svc.Put(ctx, org, bytes.NewReader(png), "image/png", "foto.png")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := be.ListBucket("masteria-media", nil, gofakes3.ListBucketPage{})
	if err != nil || len(objs.Contents) != 1 || !strings.HasPrefix(objs.Contents[0].Key, "org/"+strconv.FormatInt(org, 10)+"/") {
		t.Fatalf("objects in the bucket: %+v %v", objs, err)
	}
	got, rc, err := svc.Open(ctx, org, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	_ = rc.Close()
	if !bytes.Equal(body, png) || got.MIME != "image/png" || got.Size != int64(len(png)) {
		t.Fatalf("read back %d bytes as %s", len(body), got.MIME)
	}
	again, err := svc.PutInbound(ctx, org, bytes.NewReader(png), "image/png", "")
	if err != nil || again.ID != m.ID {
		t.Fatalf("the same bytes again: %+v %v", again, err)
	}
	// A type WhatsApp does not send is refused and nothing is left in the bucket.
	if _, err := svc.Put(ctx, org, strings.NewReader("\x7fELF\x02\x01\x01\x00programa"), "application/x-executable", "x"); !errors.Is(err, model.ErrInvalid) {
		t.Fatalf("a script: %v", err)
	}
	if objs, _ := be.ListBucket("masteria-media", nil, gofakes3.ListBucketPage{}); len(objs.Contents) != 1 {
		t.Fatalf("%d objects after a refused file", len(objs.Contents))
	}
	// Another org's id is not found.
	if _, _, err := svc.Open(ctx, org+1000, m.ID); err == nil {
		t.Fatal("another org opened the file")
	}
}

// With a CDN in front of the app, providers get links on the CDN's host that the app
// (its origin) still opens.
func TestSignedLinksOnTheCDN(t *testing.T) {
	ctx := context.Background()
	rawURL, _ := s3Server(t, "masteria-cdn")
	svc, org := service(t, rawURL, "https://cdn.example.net/")
	m, err := svc.Put(ctx, org, strings.NewReader("recibo de compra"), "text/plain", "recibo.txt")
	if err != nil {
		t.Fatal(err)
	}
	link, err := svc.SignedURL(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://cdn.example.net/media/") {
		t.Fatalf("link %s", link)
	}
	parts := strings.Split(strings.TrimPrefix(link, "https://cdn.example.net/media/"), "/")
	if len(parts) != 3 {
		t.Fatalf("link %s", link)
	}
	_, rc, err := svc.OpenSigned(ctx, m.ID, parts[1], parts[2])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	_ = rc.Close()
	if string(body) != "recibo de compra" {
		t.Fatalf("body %q", body)
	}
	if _, _, err := svc.OpenSigned(ctx, m.ID, parts[1], parts[2]+"x"); err == nil {
		t.Fatal("a tampered link opened the file")
	}
}

// gs:// is linked in: without Google credentials it fails for that reason, not for an
// unknown scheme.
func TestGCSSchemeIsKnown(t *testing.T) {
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/credentials.json")
	_, err := media.OpenBucket(context.Background(), "gs://masteria-media", t.TempDir())
	if err == nil {
		return // credentials found on this machine: the driver opened the bucket
	}
	if strings.Contains(err.Error(), "no driver registered") || strings.Contains(err.Error(), "unknown") && strings.Contains(err.Error(), "scheme") {
		t.Fatalf("gs:// not linked in: %v", err)
	}
}
