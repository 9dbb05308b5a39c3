package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"
)

// The example deployments (deploy/) must keep working with the portal as
// it is: every setting they give is one the portal reads, with a value it
// accepts, and the replicas, probes and disruption budget are there.

// checkSettings runs the portal's configuration on a deployment's
// environment, with the files it names made up in a temporary directory.
func checkSettings(t *testing.T, where string, env map[string]string) {
	t.Helper()
	dir := t.TempDir()
	fake := map[string]string{} // the deployment's file path → a local stand-in
	for k, v := range env {
		if !strings.HasSuffix(k, "_FILE") {
			continue
		}
		local := filepath.Join(dir, strings.ToLower(k))
		content := "a-secret\n"
		switch k {
		case "PORTAL_VEEAM_CA_FILE":
			content = testCA(t)
		case "PORTAL_SESSION_KEY_FILE":
			key := make([]byte, 32)
			rand.Read(key)
			content = base64.StdEncoding.EncodeToString(key) + "\n"
		}
		if err := os.WriteFile(local, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		fake[v] = local
	}
	read := map[string]bool{}
	getenv := func(k string) string {
		read[k] = true
		switch v := env[k]; {
		case k == "PORTAL_DATA_DIR":
			return filepath.Join(dir, "data")
		case fake[v] != "":
			return fake[v]
		default:
			return v
		}
	}
	c, problems, err := parseConfig(nil, getenv, io.Discard)
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	problems = append(problems, c.validate()...)
	for _, p := range problems {
		t.Errorf("%s: %s", where, p)
	}
	for k := range env {
		if strings.HasPrefix(k, "PORTAL_") && !read[k] {
			t.Errorf("%s sets %s, which the portal does not read", where, k)
		}
	}
	for _, k := range []string{"PORTAL_DATABASE_URL", "PORTAL_DATABASE_PASSWORD_FILE", "PORTAL_SESSION_KEY_FILE", "PORTAL_PUBLIC_URL",
		"PORTAL_VEEAM_URL", "PORTAL_CLIENT_SECRET_FILE", "PORTAL_TRUSTED_PROXIES", "PORTAL_DRAIN_DELAY"} {
		if env[k] == "" {
			t.Errorf("%s does not set %s", where, k)
		}
	}
	if c.databaseDSN == "" {
		t.Errorf("%s does not run on PostgreSQL", where)
	}
}

// testCA is a PEM certificate, as a CA file holds.
func testCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true,
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0), BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestTheComposeExampleRunsReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	var file struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Image       string            `yaml:"image"`
			Volumes     []string          `yaml:"volumes"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
		Secrets map[string]struct {
			File string `yaml:"file"`
		} `yaml:"secrets"`
	}
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	caddy, err := os.ReadFile("../../deploy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	var replicas []string
	for name, svc := range file.Services {
		if svc.Environment["PORTAL_DATABASE_URL"] == "" {
			continue
		}
		replicas = append(replicas, name)
		checkSettings(t, "compose service "+name, svc.Environment)
		for k, v := range svc.Environment {
			if strings.HasPrefix(v, "/run/secrets/") && !slices.Contains(svc.Secrets, strings.TrimPrefix(v, "/run/secrets/")) {
				t.Errorf("%s: %s names secret %s, which the service does not get", name, k, v)
			}
		}
		if !bytes.Contains(caddy, []byte(name+":8080")) {
			t.Errorf("the Caddyfile does not send requests to %s", name)
		}
	}
	if len(replicas) < 2 {
		t.Errorf("the compose file runs %d portal replicas", len(replicas))
	}
	if !strings.HasPrefix(file.Services["db"].Image, "postgres:") {
		t.Errorf("the database is %q", file.Services["db"].Image)
	}
	if !bytes.Contains(caddy, []byte("health_uri /readyz")) || bytes.Contains(caddy, []byte("lb_policy cookie")) {
		t.Error("the Caddyfile must check /readyz and must not pin sessions to a replica")
	}
}

// kubeDoc is the part of a Kubernetes object the test reads.
type kubeDoc struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Replicas     int                 `yaml:"replicas"`
		MinAvailable int                 `yaml:"minAvailable"`
		Selector     yaml.Node           `yaml:"selector"`
		Template     kubePodTemplateSpec `yaml:"template"`
	} `yaml:"spec"`
}

type kubePodTemplateSpec struct {
	Metadata struct {
		Labels map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Containers []struct {
			EnvFrom []struct {
				ConfigMapRef struct {
					Name string `yaml:"name"`
				} `yaml:"configMapRef"`
			} `yaml:"envFrom"`
			Env []struct {
				Name  string `yaml:"name"`
				Value string `yaml:"value"`
			} `yaml:"env"`
			ReadinessProbe kubeProbe `yaml:"readinessProbe"`
			LivenessProbe  kubeProbe `yaml:"livenessProbe"`
		} `yaml:"containers"`
	} `yaml:"spec"`
}

type kubeProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
	} `yaml:"httpGet"`
}

// matchLabels reads a selector's labels, whether matchLabels or a plain map.
func matchLabels(n yaml.Node) map[string]string {
	var s struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	}
	if n.Decode(&s) == nil && s.MatchLabels != nil {
		return s.MatchLabels
	}
	var plain map[string]string
	n.Decode(&plain)
	return plain
}

func TestTheKubernetesExampleRunsReplicasOnPostgres(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../deploy/kubernetes/portal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]kubeDoc{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var d kubeDoc
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		docs[d.Kind] = d
	}
	dep, ok := docs["Deployment"]
	if !ok {
		t.Fatal("no Deployment")
	}
	if dep.Spec.Replicas < 2 {
		t.Errorf("%d replicas", dep.Spec.Replicas)
	}
	pods := dep.Spec.Template.Metadata.Labels
	c := dep.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Errorf("probes: readiness %q, liveness %q", c.ReadinessProbe.HTTPGet.Path, c.LivenessProbe.HTTPGet.Path)
	}
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		if cm := docs["ConfigMap"]; cm.Metadata.Name == from.ConfigMapRef.Name {
			for k, v := range cm.Data {
				env[k] = v
			}
		} else {
			t.Errorf("the ConfigMap %q is not in the file", from.ConfigMapRef.Name)
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	checkSettings(t, "the Deployment", env)
	for _, kind := range []string{"PodDisruptionBudget", "Service"} {
		d, ok := docs[kind]
		if !ok {
			t.Errorf("no %s", kind)
			continue
		}
		sel := matchLabels(d.Spec.Selector)
		if len(sel) == 0 {
			t.Errorf("the %s selects nothing", kind)
		}
		for k, v := range sel {
			if pods[k] != v {
				t.Errorf("the %s selects %s=%s, which the pods do not carry", kind, k, v)
			}
		}
	}
	if pdb := docs["PodDisruptionBudget"]; pdb.Spec.MinAvailable < 1 || pdb.Spec.MinAvailable >= dep.Spec.Replicas {
		t.Errorf("the disruption budget keeps %d of %d replicas", pdb.Spec.MinAvailable, dep.Spec.Replicas)
	}
}
