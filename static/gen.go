//go:build ignore

// gen writes each stylesheet and script precompressed, as name.gz (gzip,
// best compression) and name.br (brotli, best compression), beside it:
// the portal serves the smallest a browser accepts. Run by go generate
// (make generate); make lint fails when they are out of date.
package main

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/andybalholm/brotli"
)

func main() {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".css") || strings.HasSuffix(path, ".js")) {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.Write(src)
		zw.Close()
		var br bytes.Buffer
		bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
		bw.Write(src)
		bw.Close()
		if err := os.WriteFile(path+".gz", gz.Bytes(), 0o644); err != nil {
			return err
		}
		return os.WriteFile(path+".br", br.Bytes(), 0o644)
	})
	if err != nil {
		log.Fatal(err)
	}
}
