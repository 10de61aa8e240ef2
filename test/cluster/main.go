// Command kcluster runs one throw-away Kubernetes control plane for tests:
// embedded etcd + the real kube-apiserver (RBAC enforced) in this process, and
// kube-controller-manager (namespace, garbage-collector and PVC-protection controllers) as a child
// process of the same binary. It is also a multi-call binary for kubectl.
//
//	kcluster run --name supervisor --data-dir DIR --user operator [--user other] [--watch-stdin]
//	kcluster kcm <kube-controller-manager flags>      (started by `run`)
//	kcluster kubectl <kubectl args>                    (or invoke through a symlink named kubectl)
//
// `run` prints exactly one line on stdout, a JSON object with "ready":true, once the
// cluster serves requests; everything else (klog, etcd) goes to stderr. It stops on
// SIGTERM/SIGINT, when stdin reaches EOF (--watch-stdin), or when its parent dies
// (PR_SET_PDEATHSIG on Linux).
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata"

	"go.etcd.io/etcd/server/v3/embed"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	apiserverapp "k8s.io/kubernetes/cmd/kube-apiserver/app"
	kcmapp "k8s.io/kubernetes/cmd/kube-controller-manager/app"
)

// exit codes understood by the harness
const (
	exitUsage    = 2
	exitPortBusy = 3 // start-up failed, probably a port race: retry with fresh ports
	exitNotReady = 4
)

func main() {
	if filepath.Base(os.Args[0]) == "kubectl" {
		os.Exit(kubectlMain(os.Args))
	}
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "run":
		os.Exit(run(os.Args[2:]))
	case "kcm":
		os.Exit(kcmMain(os.Args[2:]))
	case "kubectl":
		os.Exit(kubectlMain(os.Args[1:]))
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kcluster run --name NAME --data-dir DIR [--user NAME]... [--watch-stdin] [--no-kcm] [--keep] [--v N]")
	fmt.Fprintln(os.Stderr, "       kcluster kubectl ARGS...   (or through a symlink named kubectl)")
	os.Exit(exitUsage)
}

func kcmMain(args []string) int {
	if os.Getenv("KCLUSTER_WATCH_STDIN") == "1" {
		// stdin is a pipe from `run`: when it closes, our parent is gone.
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	}
	setParentDeathSignal(syscall.SIGKILL)
	cmd := kcmapp.NewControllerManagerCommand()
	cmd.SetArgs(args)
	return cli.Run(cmd)
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type userInfo struct {
	Name           string `json:"name"`
	Token          string `json:"token"`
	RotatedToken   string `json:"rotatedToken"`
	Kubeconfig     string `json:"kubeconfig"`
	RotatedKubecfg string `json:"rotatedKubeconfig"`
}

type readyLine struct {
	Ready             bool                 `json:"ready"`
	Name              string               `json:"name"`
	Server            string               `json:"server"`
	CAFile            string               `json:"caFile"`
	DataDir           string               `json:"dataDir"`
	AdminKubeconfig   string               `json:"adminKubeconfig"`
	AdminToken        string               `json:"adminToken"`
	Users             map[string]string    `json:"users"`
	RotatedUsers      map[string]string    `json:"rotatedUsers"`
	Tokens            map[string][2]string `json:"tokens"`
	EtcdEndpoint      string               `json:"etcdEndpoint"`
	ControllerManager bool                 `json:"controllerManager"`
	PID               int                  `json:"pid"`
}

func run(argv []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError) // own FlagSet: k8s registers global flags
	name := fs.String("name", "cluster", "cluster name (kubeconfig cluster/context name)")
	dataDir := fs.String("data-dir", "", "state directory (required); removed on exit unless --keep")
	var users stringList
	fs.Var(&users, "user", "restricted user to issue tokens for (repeatable, or comma separated)")
	noKCM := fs.Bool("no-kcm", false, "do not start kube-controller-manager")
	watchStdin := fs.Bool("watch-stdin", false, "shut down when stdin reaches EOF")
	keep := fs.Bool("keep", false, "keep --data-dir on exit")
	verbosity := fs.Int("v", 0, "apiserver / controller-manager klog verbosity")
	readyTimeout := fs.Duration("ready-timeout", 3*time.Minute, "how long to wait for the apiserver to become ready")
	if err := fs.Parse(argv); err != nil {
		return exitUsage
	}
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "--data-dir is required")
		return exitUsage
	}
	setParentDeathSignal(syscall.SIGTERM)

	dir, err := filepath.Abs(*dataDir)
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}

	var names []string
	seen := map[string]bool{"admin": true}
	for _, u := range users {
		for _, n := range strings.Split(u, ",") {
			n = strings.TrimSpace(n)
			if n == "" || seen[n] {
				continue
			}
			if strings.ContainsAny(n, ",\"\n/") {
				fmt.Fprintf(os.Stderr, "invalid user name %q\n", n)
				return exitUsage
			}
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)

	// 1. PKI and credentials: a fresh CA, serving cert, SA key and tokens per cluster,
	// so credentials from one cluster never work on another.
	pki := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pki, 0o700); err != nil {
		return fail(err)
	}
	ca, err := newCA(*name + "-kcluster-ca")
	if err != nil {
		return fail(err)
	}
	srv, err := ca.issue("kube-apiserver", nil, true)
	if err != nil {
		return fail(err)
	}
	saKeyPEM, err := newECKeyPEM()
	if err != nil {
		return fail(err)
	}
	write := func(n string, b []byte) string {
		p := filepath.Join(pki, n)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			panic(err)
		}
		return p
	}
	caFile := write("ca.crt", ca.certPEM)
	srvCrt, srvKey := write("apiserver.crt", srv.certPEM), write("apiserver.key", srv.keyPEM)
	saKey := write("sa.key", saKeyPEM)

	adminToken := randHex(24)
	rows := [][]string{{adminToken, "kcluster-admin", "uid-kcluster-admin", "system:masters"}}
	infos := make([]userInfo, 0, len(names))
	for _, n := range names {
		ui := userInfo{Name: n, Token: randHex(24), RotatedToken: randHex(24)}
		// Two valid tokens for the same identity, so tests can rotate credentials.
		rows = append(rows,
			[]string{ui.Token, n, "uid-" + n, "kcluster:users"},
			[]string{ui.RotatedToken, n, "uid-" + n, "kcluster:users"})
		infos = append(infos, ui)
	}
	tokFile := filepath.Join(pki, "tokens.csv") // token,user,uid,"group1,group2"
	if err := writeCSV(tokFile, rows); err != nil {
		return fail(err)
	}

	// 2. Embedded etcd (retries with fresh ports on a bind race).
	var e *embed.Etcd
	var etcdURL string
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(2)
		if err != nil {
			return fail(err)
		}
		etcdURL = fmt.Sprintf("http://127.0.0.1:%d", ports[0])
		_ = os.RemoveAll(filepath.Join(dir, "etcd"))
		e, err = startEtcd(filepath.Join(dir, "etcd"), ports[0], ports[1])
		if err == nil {
			break
		}
		fmt.Fprintf(os.Stderr, "kcluster: etcd start attempt %d failed: %v\n", attempt, err)
		if attempt >= 5 {
			return exitPortBusy
		}
	}
	defer e.Close() // idempotent; also closed explicitly below

	// 3. kube-apiserver. NewAPIServerCommand installs the process' SIGTERM/SIGINT handler.
	ports, err := freePorts(1)
	if err != nil {
		return fail(err)
	}
	apiPort := ports[0]
	server := fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	cmd := apiserverapp.NewAPIServerCommand()
	cmd.SetArgs([]string{
		"--etcd-servers=" + etcdURL,
		"--cert-dir=" + filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file=" + srvCrt, "--tls-private-key-file=" + srvKey,
		"--client-ca-file=" + caFile,
		"--token-auth-file=" + tokFile,
		"--secure-port=" + strconv.Itoa(apiPort),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=" + server,
		"--service-account-key-file=" + saKey, "--service-account-signing-key-file=" + saKey,
		"--authorization-mode=Node,RBAC",
		"--disable-admission-plugins=ServiceAccount",
		"--allow-privileged=true",
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=" + strconv.Itoa(*verbosity),
	})

	var kcmMu sync.Mutex
	var kcm *exec.Cmd
	stopping := false
	stopKCM := func() {
		kcmMu.Lock()
		defer kcmMu.Unlock()
		stopping = true
		if kcm == nil || kcm.Process == nil {
			return
		}
		_ = kcm.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = kcm.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = kcm.Process.Kill()
			<-done
		}
		kcm = nil
	}

	// The apiserver's own handler also receives these; stopping the controller
	// manager first lets the apiserver drain without long-running watches.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; stopKCM() }()

	shutdown := func(why string) {
		fmt.Fprintln(os.Stderr, "kcluster: shutting down:", why)
		go stopKCM()
		genericapiserver.RequestShutdown()
	}
	go func() {
		if err := <-e.Err(); err != nil {
			shutdown("etcd failed: " + err.Error())
		}
	}()
	if *watchStdin {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); shutdown("stdin closed") }()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	readyErr := make(chan error, 1)
	go func() {
		adminCfg := &rest.Config{Host: server, BearerToken: adminToken,
			TLSClientConfig: rest.TLSClientConfig{CAData: ca.certPEM}}
		if err := waitReady(ctx, adminCfg, *readyTimeout); err != nil {
			readyErr <- err
			shutdown("not ready: " + err.Error())
			return
		}
		kdir := filepath.Join(dir, "kubeconfigs")
		if err := os.MkdirAll(kdir, 0o700); err != nil {
			panic(err)
		}
		rl := readyLine{Ready: true, Name: *name, Server: server, CAFile: caFile, DataDir: dir,
			AdminToken: adminToken, Users: map[string]string{}, RotatedUsers: map[string]string{},
			Tokens: map[string][2]string{}, EtcdEndpoint: etcdURL, PID: os.Getpid()}
		rl.AdminKubeconfig = filepath.Join(kdir, "admin.kubeconfig")
		must(writeKubeconfig(rl.AdminKubeconfig, *name, server, ca.certPEM, "kcluster-admin", adminToken))
		for _, ui := range infos {
			p := filepath.Join(kdir, ui.Name+".kubeconfig")
			pr := filepath.Join(kdir, ui.Name+"-rotated.kubeconfig")
			must(writeKubeconfig(p, *name, server, ca.certPEM, ui.Name, ui.Token))
			must(writeKubeconfig(pr, *name, server, ca.certPEM, ui.Name, ui.RotatedToken))
			rl.Users[ui.Name], rl.RotatedUsers[ui.Name] = p, pr
			rl.Tokens[ui.Name] = [2]string{ui.Token, ui.RotatedToken}
		}
		if !*noKCM {
			exe, err := os.Executable()
			must(err)
			c := exec.Command(exe, "kcm",
				"--kubeconfig="+rl.AdminKubeconfig,
				"--controllers=namespace-controller,garbage-collector-controller,persistentvolumeclaim-protection-controller",
				"--leader-elect=false", "--secure-port=0",
				"--v="+strconv.Itoa(*verbosity))
			c.Stdout, c.Stderr = os.Stderr, os.Stderr
			c.Env = append(os.Environ(), "KCLUSTER_WATCH_STDIN=1")
			c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			if _, err := c.StdinPipe(); err != nil { // closes when we die
				panic(err)
			}
			kcmMu.Lock()
			if !stopping {
				must(c.Start())
				kcm = c
				rl.ControllerManager = true
				go func() {
					err := c.Wait()
					kcmMu.Lock()
					unexpected := !stopping
					kcmMu.Unlock()
					if unexpected {
						shutdown(fmt.Sprintf("kube-controller-manager exited: %v", err))
					}
				}()
			}
			kcmMu.Unlock()
		}
		b, err := json.Marshal(rl)
		must(err)
		os.Stdout.Write(append(b, '\n')) // the only stdout output
		readyErr <- nil
	}()

	code := cli.Run(cmd) // blocks until a signal, RequestShutdown, or a start-up error
	cancel()
	stopKCM()
	select {
	case err := <-readyErr:
		if err != nil {
			fmt.Fprintln(os.Stderr, "kcluster:", err)
			if code == 0 {
				code = exitNotReady
			}
		}
	default:
		// never became ready: most likely the apiserver port was taken
		if code != 0 {
			code = exitPortBusy
		}
	}
	e.Close()
	fmt.Fprintf(os.Stderr, "kcluster: %s stopped (code %d)\n", *name, code)
	return code
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "kcluster:", err)
	return 1
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func writeCSV(path string, rows [][]string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func startEtcd(dataDir string, clientPort, peerPort int) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "default"
	cfg.Dir = dataDir
	cfg.UnsafeNoFsync = true
	cu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(clientPort))}
	pu := url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(peerPort))}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"stderr"}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, err
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		e.Close()
		return nil, errors.New("etcd not ready after 60s")
	}
}

func waitReady(ctx context.Context, cfg *rest.Config, timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		code := 0
		cs.CoreV1().RESTClient().Get().AbsPath("/readyz").Do(ctx).StatusCode(&code)
		if code == 200 {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return fmt.Errorf("apiserver not ready after %s", timeout)
}

func writeKubeconfig(path, cluster, server string, ca []byte, user, token string) error {
	c := clientcmdapi.NewConfig()
	c.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	c.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	c.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: user}
	c.CurrentContext = cluster
	if err := clientcmd.WriteToFile(*c, path+".tmp"); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path) // atomic
}

func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ps := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ps = append(ps, l.Addr().(*net.TCPAddr).Port)
	}
	return ps, nil
}
