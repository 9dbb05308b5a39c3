package fakevbazure

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/openrestore/portal/internal/glob"
)

// A VM's file system: what a restore point holds (read by browse and
// search) and what the VM holds now (changed by restores). Windows paths
// are "D:\Finance\2026" (the root "\" lists the volumes, named "D:"),
// compared without regard to case; Linux paths are "/etc/nginx", compared
// exactly, and names may hold anything but "/".
type fsys struct {
	windows bool
	root    *entry
}

// entry is a file or a folder.
type entry struct {
	name     string
	folder   bool
	size     int64
	modified time.Time
	// locked: the VM has the file open, so a restore over it fails.
	locked   bool
	children map[string]*entry // by key
	sorted   []*entry          // folders first, then by name; nil when stale
}

func newFS(windows bool) *fsys {
	return &fsys{windows: windows, root: &entry{folder: true, children: map[string]*entry{}}}
}

// key is how names compare: Windows folds case.
func (f *fsys) key(name string) string {
	if f.windows {
		return strings.ToLower(name)
	}
	return name
}

var errRelative = errors.New("relative paths are not allowed")

// split reads an absolute path into its names: the volume first on
// Windows ("D:"). The root is no names.
func (f *fsys) split(p string) ([]string, error) {
	if !f.windows {
		if !strings.HasPrefix(p, "/") {
			return nil, errRelative
		}
		var out []string
		for _, n := range strings.Split(p, "/") {
			if n != "" {
				out = append(out, n)
			}
		}
		return out, nil
	}
	p = strings.ReplaceAll(p, "/", `\`)
	if p == `\` {
		return nil, nil
	}
	if len(p) < 2 || p[1] != ':' || !isLetter(p[0]) || (len(p) > 2 && p[2] != '\\') {
		return nil, errRelative
	}
	out := []string{strings.ToUpper(p[:2])}
	for _, n := range strings.Split(p[2:], `\`) {
		if n != "" {
			out = append(out, n)
		}
	}
	return out, nil
}

func isLetter(b byte) bool { return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }

// join is the path of name inside dir, as the product writes it.
func (f *fsys) join(dir, name string) string {
	if f.windows {
		if dir == `\` || dir == "" {
			return name + `\`
		}
		return strings.TrimRight(dir, `\`) + `\` + name
	}
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// pathOf writes names as a path.
func (f *fsys) pathOf(names []string) string {
	p := f.rootPath()
	for _, n := range names {
		p = f.join(p, n)
	}
	return p
}

func (f *fsys) rootPath() string {
	if f.windows {
		return `\`
	}
	return "/"
}

// lookup finds the entry at names; nil when there is none.
func (f *fsys) lookup(names []string) *entry {
	e := f.root
	for _, n := range names {
		if !e.folder {
			return nil
		}
		if e = e.children[f.key(n)]; e == nil {
			return nil
		}
	}
	return e
}

// get finds the entry at an absolute path.
func (f *fsys) get(p string) (*entry, error) {
	names, err := f.split(p)
	if err != nil {
		return nil, err
	}
	if e := f.lookup(names); e != nil {
		return e, nil
	}
	return nil, fmt.Errorf("the path %s does not exist", p)
}

// put writes e at the folder names (made as needed), replacing what had
// its name there. Making a volume is refused: a VM's volumes are its disks.
func (f *fsys) put(dir []string, e *entry, at time.Time) error {
	d := f.root
	for i, n := range dir {
		next := d.children[f.key(n)]
		if next == nil {
			if i == 0 && f.windows {
				return fmt.Errorf("the volume %s does not exist", n)
			}
			next = &entry{name: n, folder: true, modified: at, children: map[string]*entry{}}
			d.children[f.key(n)] = next
			d.sorted = nil
		}
		if !next.folder {
			return fmt.Errorf("%s is a file, not a folder", f.pathOf(dir[:i+1]))
		}
		d = next
	}
	d.children[f.key(e.name)] = e
	d.sorted = nil
	return nil
}

// remove deletes the entry at names, if there is one.
func (f *fsys) remove(names []string) {
	if len(names) == 0 {
		return
	}
	if d := f.lookup(names[:len(names)-1]); d != nil && d.folder {
		delete(d.children, f.key(names[len(names)-1]))
		d.sorted = nil
	}
}

// list is a folder's entries, folders first, then by name.
func (e *entry) list() []*entry {
	if e.sorted == nil {
		e.sorted = make([]*entry, 0, len(e.children))
		for _, c := range e.children {
			e.sorted = append(e.sorted, c)
		}
		slices.SortFunc(e.sorted, func(a, b *entry) int {
			if a.folder != b.folder {
				if a.folder {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)), cmp.Compare(a.name, b.name))
		})
	}
	return e.sorted
}

// clone copies e and everything under it.
func (e *entry) clone() *entry {
	c := *e
	c.sorted = nil
	if e.folder {
		c.children = make(map[string]*entry, len(e.children))
		for k, ch := range e.children {
			c.children[k] = ch.clone()
		}
	}
	return &c
}

// count is how many entries e holds, itself included.
func (e *entry) count() int {
	n := 1
	for _, c := range e.children {
		n += c.count()
	}
	return n
}

// walk calls fn with each entry under dir (not dir itself) and the path of
// its folder, depth first in listing order, until fn returns false.
func (f *fsys) walk(dirPath string, dir *entry, deep bool, fn func(parent string, e *entry) bool) bool {
	for _, c := range dir.list() {
		if !fn(dirPath, c) {
			return false
		}
		if deep && c.folder && !f.walk(f.join(dirPath, c.name), c, deep, fn) {
			return false
		}
	}
	return true
}

// matcher is a search pattern: with * or ?, a wildcard match of the whole
// name; without, a part of the name. Case never matters.
func matcher(pattern string) func(string) bool {
	p := strings.ToLower(pattern)
	if !strings.ContainsAny(p, "*?") {
		return func(name string) bool { return strings.Contains(strings.ToLower(name), p) }
	}
	return func(name string) bool { return glob.Match(p, strings.ToLower(name)) }
}
