package fakeveeam

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// inOneDrive serves a request about one OneDrive of a working OneDrive
// session, refusing OneDrives outside the session's scope as not found.
func (s *Server) inOneDrive(h func(http.ResponseWriter, *http.Request, *docScope)) func(http.ResponseWriter, *http.Request, *caller) {
	return s.inSessionC("Veod", func(w http.ResponseWriter, r *http.Request, rs *restoreSession, c *caller) {
		id := r.PathValue("oneDriveId")
		t, ok := s.docs.oneDrive(id)
		s.mu.Lock()
		visible := ok && rs.scope.users[t.owner.OID]
		s.mu.Unlock()
		if !visible {
			notFound(w, fmt.Sprintf("OneDrive with ID %s was not found.", id))
			return
		}
		sc := s.newDocScope(rs, c, "/v8/RestoreSessions/"+rs.id+"/Organization/OneDrives/"+url.PathEscape(t.id), []*docTree{t})
		sc.oneDrive = t
		h(w, r, sc)
	})
}

// inSite serves a request about one site of a working SharePoint session.
func (s *Server) inSite(h func(http.ResponseWriter, *http.Request, *docScope)) func(http.ResponseWriter, *http.Request, *caller) {
	return s.inSessionC("Vesp", func(w http.ResponseWriter, r *http.Request, rs *restoreSession, c *caller) {
		id := r.PathValue("siteId")
		s.mu.Lock()
		visible := rs.scope.sites[id]
		s.mu.Unlock()
		trees, ok := s.docs.site(id)
		if !visible || !ok {
			notFound(w, fmt.Sprintf("The SharePoint site with ID %s was not found.", id))
			return
		}
		sc := s.newDocScope(rs, c, "/v8/RestoreSessions/"+rs.id+"/Organization/Sites/"+url.PathEscape(id), trees)
		sc.siteID = id
		h(w, r, sc)
	})
}

func (s *Server) oneDriveRoutes(m *http.ServeMux) {
	od := "/v8/RestoreSessions/{restoreSessionId}/Organization/OneDrives/{oneDriveId}"
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request, *docScope)) {
		m.HandleFunc(pattern, s.authed(s.inOneDrive(h)))
	}
	handle("GET "+od, func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		t := sc.oneDrive
		writeJSON(w, http.StatusOK, oneDrive{ID: t.id, Name: t.name, URL: t.url, Links: map[string]link{"self": {Href: sc.base}}})
	})
	handle("GET "+od+"/Folders", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.listDocFolders(w, r, sc, treeOneDrive) })
	handle("GET "+od+"/Folders/{folderId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.getDoc(w, r, sc, "folderId", docFolder) })
	handle("GET "+od+"/Folders/{folderId}/Versions", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.docVersions(w, r, sc, "folderId", docFolder)
	})
	handle("GET "+od+"/Folders/{folderId}/Versions/{versionId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.getDocVersion(w, r, sc, "folderId", docFolder)
	})
	handle("GET "+od+"/Documents", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.listDocs(w, r, sc, treeOneDrive) })
	handle("GET "+od+"/Documents/{documentId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.getDoc(w, r, sc, "documentId", docFile)
	})
	handle("GET "+od+"/Documents/{documentId}/Versions", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.docVersions(w, r, sc, "documentId", docFile)
	})
	handle("GET "+od+"/Documents/{documentId}/Versions/{versionId}", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.getDocVersion(w, r, sc, "documentId", docFile)
	})
	handle("POST "+od+"/search", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.searchIn(w, r, sc, func() []*docNode { return sc.everything(treeOneDrive, true, true) })
	})
	handle("POST "+od+"/Folders/{folderId}/search", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		n, ok := sc.node(r.PathValue("folderId"), docFolder)
		if !ok {
			notFound(w, "The folder with the specified ID was not found.")
			return
		}
		s.searchIn(w, r, sc, func() []*docNode { return n.descendants(sc.point, sc.showDeleted) })
	})
	handle("POST "+od+"/Documents/operatorRestore", s.oneDriveRestore)
	handle("POST "+od+"/Documents/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveDocs(w, r, sc, "documents", docFile) })
	handle("POST "+od+"/Documents/{documentId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.saveDoc(w, r, sc, "documentId", docFile, false)
	})
	handle("POST "+od+"/Documents/{documentId}/Versions/{versionId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		s.saveDoc(w, r, sc, "documentId", docFile, true)
	})
	handle("POST "+od+"/Folders/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveDocs(w, r, sc, "folders", docFolder) })
	handle("POST "+od+"/Folders/{folderId}/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) { s.saveFolder(w, r, sc) })
	handle("POST "+od+"/save", func(w http.ResponseWriter, r *http.Request, sc *docScope) {
		if !s.downloadable(w, sc.c) {
			return
		}
		s.streamZip(w, sc, sc.everything(treeOneDrive, true, true), nil)
	})
}

// searchIn runs a search over pool and writes the page asked for.
func (s *Server) searchIn(w http.ResponseWriter, r *http.Request, sc *docScope, pool func() []*docNode) {
	offset, limit, ok := pageParams(w, r)
	if !ok {
		return
	}
	s.searchDocs(w, r, sc.rs.id, pool, sc.point, func(hits []docHit, setID string) {
		s.writeDocs(w, r, sc, hits, offset, limit, setID)
	})
}

// saveDoc is POST …/Documents/{id}/save (and …/Versions/{versionId}/save): the
// file itself, or a ZIP of it when the body asks asZip.
func (s *Server) saveDoc(w http.ResponseWriter, r *http.Request, sc *docScope, param string, kind docKind, versioned bool) {
	if !s.downloadable(w, sc.c) {
		return
	}
	var opts struct {
		AsZip *bool `json:"asZip"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&opts); err != nil && err != io.EOF {
			badRequest(w, "The request body is not a valid save options object.")
			return
		}
	}
	var n *docNode
	var ver int
	if versioned {
		var ok bool
		if n, ver, ok = sc.version(w, r, param, kind); !ok {
			return
		}
	} else {
		var ok bool
		if n, ok = sc.node(r.PathValue(param), kind); !ok {
			notFound(w, "The document with the specified ID was not found in the restore point.")
			return
		}
		ver = n.versionAt(sc.point)
	}
	if opts.AsZip != nil && *opts.AsZip {
		s.streamZip(w, sc, []*docNode{n}, map[*docNode]int{n: ver})
		return
	}
	size := n.versions[ver].size
	s.streamDownload(w, "file", 1, size, func(out io.Writer) error {
		_, err := io.CopyBuffer(out, newBytes(n.versions[ver].key, size), make([]byte, 64<<10))
		return err
	})
}

// saveDocs is POST …/Documents/save or …/Folders/save: a ZIP of the objects listed in the body.
func (s *Server) saveDocs(w http.ResponseWriter, r *http.Request, sc *docScope, field string, kind docKind) {
	if !s.downloadable(w, sc.c) {
		return
	}
	var body map[string][]restoreRef
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body[field]) == 0 {
		badRequest(w, fmt.Sprintf("Specify the %s to save.", field))
		return
	}
	var nodes []*docNode
	for _, ref := range body[field] {
		n, ok := sc.node(ref.ID, kind)
		if !ok {
			notFound(w, fmt.Sprintf("The object %s was not found in the restore point.", ref.ID))
			return
		}
		nodes = append(nodes, sc.subtree(n)...)
	}
	s.streamZip(w, sc, nodes, nil)
}

// saveFolder is POST …/Folders/{folderId}/save: a ZIP of the folder.
func (s *Server) saveFolder(w http.ResponseWriter, r *http.Request, sc *docScope) {
	if !s.downloadable(w, sc.c) {
		return
	}
	n, ok := sc.node(r.PathValue("folderId"), docFolder)
	if !ok {
		notFound(w, "The folder with the specified ID was not found.")
		return
	}
	s.streamZip(w, sc, sc.subtree(n), nil)
}

// streamZip sends a ZIP of the nodes (folders as directories), each in its
// version of the restore point unless versions names another.
func (s *Server) streamZip(w http.ResponseWriter, sc *docScope, nodes []*docNode, versions map[*docNode]int) {
	files := 0
	for _, n := range nodes {
		if !n.folder() {
			files++
		}
	}
	s.streamDownload(w, "zip", files, 0, func(out io.Writer) error {
		zw := newZip(out)
		for _, n := range nodes {
			if n.folder() {
				if err := zw.dir(zipPath(n.path()), n.created); err != nil {
					return err
				}
				continue
			}
			ver, ok := versions[n]
			if !ok {
				ver = n.versionAt(sc.point)
			}
			v := n.versions[ver]
			if err := zw.add(zipPath(n.path()), v.since, newBytes(v.key, v.size)); err != nil {
				return err
			}
		}
		return zw.close()
	})
}

// zipStream writes a ZIP as it goes; files are stored, not compressed.
type zipStream struct {
	w    *zip.Writer
	buf  []byte
	used map[string]int
}

func newZip(out io.Writer) *zipStream {
	return &zipStream{w: zip.NewWriter(out), buf: make([]byte, 64<<10), used: map[string]int{}}
}

func (z *zipStream) dir(name string, modified time.Time) error {
	_, err := z.w.CreateHeader(&zip.FileHeader{Name: name + "/", Modified: modified})
	return err
}

// add writes one file; a name already used gets " (2)" and so on.
func (z *zipStream) add(name string, modified time.Time, content io.Reader) error {
	if z.used[name]++; z.used[name] > 1 {
		ext := path.Ext(name)
		name = fmt.Sprintf("%s (%d)%s", strings.TrimSuffix(name, ext), z.used[name], ext)
	}
	fw, err := z.w.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: modified})
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(fw, content, z.buf)
	return err
}

func (z *zipStream) close() error { return z.w.Close() }

// zipPath makes a tree path safe inside a ZIP: no characters Windows
// refuses, no empty or dot segments.
func zipPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		part = strings.Map(func(r rune) rune {
			if r < 0x20 || strings.ContainsRune(`\:*?"<>|`, r) {
				return '_'
			}
			return r
		}, part)
		if part = strings.Trim(part, " ."); part == "" {
			part = "_"
		}
		parts[i] = part
	}
	return strings.Join(parts, "/")
}
