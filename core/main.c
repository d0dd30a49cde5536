/*
 * hv's command line: run, check, ctl, plugins, accel, img. Everything that can be
 * wrong with a config or a plugin is found before a guest instruction runs.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accel.h"
#include "accel/select.h"
#include "check.h"
#include "config.h"
#include "control.h"
#include "disk.h"
#include "log.h"
#include "plugin.h"
#include "vm.h"

static const char usage_main[] =
	"usage: hv COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  run VM.ini       boot the VM the file describes\n"
	"  check VM.ini     validate the file and print the effective config\n"
	"  ctl SOCK CMD...  send a command to a running VM's control socket\n"
	"  screenshot SOCK PATH.png [DISPLAY]  a running VM's display as a PNG\n"
	"  plugins          list the plugins found, with kinds and versions\n"
	"  accel            which vCPU backend runs VMs here, and why\n"
	"  img ...          create, inspect, convert disk images (hv img --help)\n"
	"\n"
	"Each command takes --help. Plugins are searched in the INI's plugin_path,\n"
	"$HV_PLUGIN_PATH, the directory beside hv, and the install directory.\n";

static const char usage_run[] =
	"usage: hv run [--accel=auto|kvm|emu] [--control=SOCK] [-v|-q] VM.ini\n"
	"  --accel   override the [vm] accel key\n"
	"  --control override the [vm] control key: a unix socket hv ctl talks to\n"
	"  -v        verbose: core and plugin information messages\n"
	"  -q        quiet: errors only\n"
	"Exit status: the guest's (power-off, debug-exit port), 128+N after\n"
	"signal N, 1 when the VM could not start or failed.\n";

static const char usage_check[] =
	"usage: hv check [--accel=auto|kvm|emu] VM.ini\n"
	"Validates the file against the plugins it names, builds the VM the way\n"
	"hv run does short of running a vCPU (devices, PCI slots, backends, disks,\n"
	"ACPI tables, the boot image in guest memory) and tears it down, then\n"
	"prints the effective configuration (every key, with defaults marked).\n"
	"It refuses what hv run would refuse at start-up, with the same line.\n"
	"Nothing outside hv changes: disks are opened read-only, console and\n"
	"network backends are checked by their keys but not started (no socket\n"
	"bound, no file written, the terminal left alone), and no KVM VM is made.\n"
	"  --accel   override the [vm] accel key (the device set depends on it)\n"
	"Exit status 0 when valid, 1 when not.\n";

static const char usage_accel[] =
	"usage: hv accel [--accel=auto|kvm|emu] [--name] [VM.ini]\n"
	"Says which vCPU backend `hv run` would use here (for VM.ini's accel key,\n"
	"or --accel, else auto) and why, after timing guest kernel code on KVM.\n"
	"  --name    print only the backend's name (for scripts)\n"
	"Exit status 0 when a backend can run the VM, 1 when none can.\n";

static const char usage_plugins[] =
	"usage: hv plugins [--keys] [--path DIRS]\n"
	"  --keys    also list each plugin's configuration keys\n";

static int load_plugins(struct plugin_set *set, const struct config *cfg,
			const char *extra)
{
	const char *from_ini = NULL;
	char *path;
	int rc;

	if (cfg)
		from_ini = cfg_get(config_section(cfg, "vm", "vm"), "plugin_path");
	path = plugin_default_path(extra ? extra : from_ini);
	if (!path)
		return -1;
	rc = plugin_load_path(set, path);
	free(path);
	return rc;
}

/* Parse, load plugins, validate: 0 or -1 with the message printed. */
static int prepare(const char *ini, struct config *cfg, struct plugin_set *set)
{
	if (config_load(cfg, ini))
		return -1;
	if (load_plugins(set, cfg, NULL))
		return -1;
	return config_validate(cfg, set);
}

/* The backend for a VM, a warning or error logged: NULL if none can run
 * it. *why gets the reason auto fell back to emu, for the summary line. */
static const struct accel_ops *pick_accel(const char *want, char *why, size_t n)
{
	struct accel_choice c;

	accel_choose(want, &c);
	snprintf(why, n, "%s", c.reason ? c.reason : "");
	if (*c.why && c.level <= LOG_WARN)
		log_msg(c.level, "%s", c.why);
	return c.ops;
}

/*
 * Parse, validate and build the VM as far as a run goes before a vCPU
 * starts. run and check both come through here, so they refuse the same
 * files with the same line. 0, or -1 after that line; vm->cfg is set once
 * vm_init ran, and then the caller owes a vm_destroy.
 */
static int build(const char *ini, const char *accel_opt, int dry,
		 struct config *cfg, struct plugin_set *set, struct vm *vm,
		 char *why, size_t why_len)
{
	const struct accel_ops *accel;
	int errors, rc;

	if (prepare(ini, cfg, set))
		return -1;
	if (!accel_opt)
		accel_opt = cfg_get(config_section(cfg, "vm", "vm"), "accel");
	if (!(accel = pick_accel(accel_opt, why, why_len)))
		return -1;
	errors = log_errors;
	rc = vm_init(vm, cfg, set, accel);
	if (rc) {
		if (log_errors == errors)
			err("%s: cannot set up the VM: %s", ini, strerror(-rc));
		return -1;
	}
	vm->dry = dry;
	return vm_build(vm) ? -1 : 0;
}

/* The control socket [vm] control = or --control= asks for; 0 when none
 * is asked for or it listens, -1 after its one error line. */
static int open_control(struct vm *vm, const struct config *cfg,
			const char *opt, struct control **out)
{
	const struct cfg_entry *e = cfg_entry(config_section(cfg, "vm", "vm"), "control");
	char where[PATH_MAX + 160];

	if (!opt && !e)
		return 0;
	if (opt)
		snprintf(where, sizeof(where), "hv: --control=%.*s", PATH_MAX, opt);
	else
		snprintf(where, sizeof(where), "%s:%d: [vm]: control = %.*s",
			 cfg->path, e->line, PATH_MAX, e->value);
	return control_open(vm, opt ? opt : e->value, where, out) ? -1 : 0;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accel", required_argument, 0, 'a' },
		{ "control", required_argument, 0, 'c' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *accel_opt = NULL, *control_opt = NULL;
	struct config cfg;
	struct plugin_set set = { 0 };
	struct control *ctl = NULL;
	char why[160];
	struct vm vm = { 0 };
	int c, status = 1;

	while ((c = getopt_long(argc, argv, "hvq", opts, NULL)) != -1) {
		switch (c) {
		case 'a': accel_opt = optarg; break;
		case 'c': control_opt = optarg; break;
		case 'v': log_level = LOG_DEBUG; break;
		case 'q': log_level = LOG_ERR; break;
		case 'h': fputs(usage_run, stdout); return 0;
		default: fputs(usage_run, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_run, stderr);
		return 2;
	}
	if (build(argv[optind], accel_opt, 0, &cfg, &set, &vm, why, sizeof(why)) == 0 &&
	    open_control(&vm, &cfg, control_opt, &ctl) == 0) {
		/* the reason for a fallback rides on the line every run prints */
		if (log_level >= LOG_WARN)
			fprintf(stderr, "hv: %s: accel=%s%s%s%s, %d vCPU%s, %llu MiB\n",
				vm.name ? vm.name : argv[optind], vm.accel->name,
				*why ? " (auto: " : "", why, *why ? ")" : "",
				vm.ncpus, vm.ncpus > 1 ? "s" : "",
				(unsigned long long)(vm.ram_size >> 20));
		if (vm_start(&vm) == 0) {
			status = vm_run(&vm);
		} else {
			/* nothing else would stop the loop vm_run waits on */
			vm_request_exit(&vm, VM_EXIT_ERROR, 1);
			vm_run(&vm);
		}
	}
	control_close(ctl);
	if (vm.cfg)
		vm_destroy(&vm);
	config_free(&cfg);
	plugin_set_free(&set);
	return status;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accel", required_argument, 0, 'a' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *accel_opt = NULL;
	struct config cfg;
	struct plugin_set set = { 0 };
	struct vm vm = { 0 };
	char why[160];
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a': accel_opt = optarg; break;
		case 'h': fputs(usage_check, stdout); return 0;
		default: fputs(usage_check, stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fputs(usage_check, stderr);
		return 2;
	}
	rc = build(argv[optind], accel_opt, 1, &cfg, &set, &vm, why, sizeof(why));
	if (vm.cfg)
		vm_destroy(&vm);
	if (!rc)
		config_print(stdout, &cfg);
	config_free(&cfg);
	plugin_set_free(&set);
	return rc ? 1 : 0;
}

static void print_kvm_facts(const struct kvm_facts *f)
{
	if (f->err)
		printf("kvm: %s\n", f->why);
	else if (!f->measured)
		printf("kvm: %s\n", f->pvm ? "kvm-pvm (guest kernel code is emulated)" : "usable");
	else if (f->mips <= 0)
		printf("kvm: %sguest kernel code did not finish in 2 s\n",
		       f->pvm ? "kvm-pvm, " : "");
	else
		printf("kvm: %sguest kernel code runs at %.1f M instructions/s (%s %.0f)\n",
		       f->pvm ? "kvm-pvm, " : "", f->mips,
		       f->mips >= KVM_MIN_MIPS ? "hardware: at least" : "emulated: below",
		       KVM_MIN_MIPS);
}

static int cmd_accel(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "accel", required_argument, 0, 'a' },
		{ "name", no_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *want = NULL;
	struct config cfg = { 0 };
	struct kvm_facts f;
	struct accel_choice c;
	int opt, name_only = 0, loaded = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': want = optarg; break;
		case 'n': name_only = 1; break;
		case 'h': fputs(usage_accel, stdout); return 0;
		default: fputs(usage_accel, stderr); return 2;
		}
	}
	if (optind < argc - 1) {
		fputs(usage_accel, stderr);
		return 2;
	}
	if (optind == argc - 1) {
		if (config_load(&cfg, argv[optind])) {
			config_free(&cfg);
			return 1;
		}
		loaded = 1;
		if (!want)
			want = cfg_get(config_section(&cfg, "vm", "vm"), "accel");
	}
	if (!want)
		want = "auto";
	accel_kvm_facts(&f, 1);
	accel_decide(want, &f, &accel_kvm, accel_emu_or_null(), &c);
	if (name_only) {
		if (c.ops)
			printf("%s\n", c.ops->name);
	} else {
		print_kvm_facts(&f);
		if (*c.why)
			printf("%s\n", c.why);
		else
			printf("accel=%s: %s\n", want, c.ops->name);
	}
	if (loaded)
		config_free(&cfg);
	return c.ops ? 0 : 1;
}

/* "(# 0-254, # 0-255)": what each '#' of an indexed key may be. */
static void print_index_ranges(const struct hv_config_key *k)
{
	const char *h = k->name;

	printf(" (");
	for (int i = 0; i < 2 && (h = strchr(h, '#')); i++, h++) {
		int lo = k->index_min[i], hi = k->index_max[i];

		printf("%s# %d-%d", i ? ", " : "", lo, lo || hi ? hi : INT32_MAX);
	}
	putchar(')');
}

static void print_plugin_keys(const struct plugin *p)
{
	static const char *const types[] = { "", "string", "int", "bool", "size",
					     "enum", "path", "section", "path" };

	for (int i = 0; i < p->nkeys; i++) {
		const struct hv_config_key *k = &p->keys[i];

		printf("    %-14s %-8s %-10s %s", k->name, types[k->type],
		       k->def ? k->def : (k->flags & HV_KEY_REQUIRED ? "(required)" : "-"),
		       k->help ? k->help : "");
		if (k->choices)
			printf(" [%s]", k->choices);
		if (k->flags & HV_KEY_INDEXED)
			print_index_ranges(k);
		if (k->flags & HV_KEY_RUNTIME)
			printf(" (runtime: hv ctl set)");
		putchar('\n');
	}
}

static int cmd_plugins(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keys", no_argument, 0, 'k' },
		{ "path", required_argument, 0, 'p' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct plugin_set set = { 0 };
	const char *path = NULL;
	int c, keys = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keys = 1; break;
		case 'p': path = optarg; break;
		case 'h': fputs(usage_plugins, stdout); return 0;
		default: fputs(usage_plugins, stderr); return 2;
		}
	}
	if (load_plugins(&set, NULL, path)) {
		plugin_set_free(&set);
		return 1;
	}
	printf("%-16s %-8s %-8s %-6s %s\n", "NAME", "KIND", "VERSION", "SDK", "DESCRIPTION");
	for (int k = HV_KIND_DEVICE; k <= HV_KIND_CONSOLE; k++) {
		for (const struct plugin *p = set.head; p; p = p->next) {
			if ((int)p->desc.kind != k)
				continue;
			printf("%-16s %-8s %-8s %u.%-4u %s\n", p->desc.name,
			       plugin_kind_name(k), p->desc.version ? p->desc.version : "-",
			       p->desc.abi_major, p->desc.abi_minor,
			       p->desc.description ? p->desc.description : "");
			if (keys)
				print_plugin_keys(p);
		}
	}
	plugin_set_free(&set);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_main, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "screenshot"))
		return screenshot_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "plugins"))
		return cmd_plugins(argc - 1, argv + 1);
	if (!strcmp(argv[1], "accel"))
		return cmd_accel(argc - 1, argv + 1);
	if (!strcmp(argv[1], "img"))
		return img_main(argc - 1, argv + 1);
	fprintf(stderr, "hv: unknown command '%s'\n%s", argv[1], usage_main);
	return 2;
}
