/*
 * The control socket's keyboard and pointer words (keymap.c), apart from
 * the VM so the control fuzzer takes them alone: QEMU monitor key names
 * (`sendkey ctrl-alt-delete`), US-layout text (`type`), and `mouse`
 * arguments, each turned into evdev batches (hv/input.h).
 */
#ifndef HV_CORE_KEYMAP_H
#define HV_CORE_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#include <hv/display.h>
#include <hv/input.h>

/* Keys one `sendkey` presses together: each is a press and a release. */
#define KEYS_MAX (HV_INPUT_BATCH_MAX / 2)

/* The evdev code of a QEMU key name (len bytes of name), or -1. */
int keymap_code(const char *name, size_t len);
/* "ctrl-alt-delete" as one batch: presses in order, releases in reverse.
 * The event count, or -EINVAL with why (n bytes) naming the bad part. */
int keymap_combo(const char *spec, struct hv_input_event *ev, char *why,
		 size_t n);
/* One character of US-layout text as a batch (shift around it when the
 * character needs it): the event count, or -EINVAL for a character no key
 * of a US keyboard types. */
int keymap_char(unsigned char c, struct hv_input_event *ev);
/* Whether every byte of text is typeable: 0, or -EINVAL with why. */
int keymap_text_check(const char *text, char *why, size_t n);

/* `mouse abs X Y [BUTTONS]` / `mouse rel DX DY [BUTTONS]`, the words after
 * "mouse". */
struct mouse_cmd {
	int abs;
	long x, y;
	int buttons; /* -1: not given (the buttons stay as they are) */
};
int mouse_parse(int argc, char **argv, struct mouse_cmd *m, char *why,
		size_t n);
/* The batch for m, its position already an ABS value (0..HV_INPUT_ABS_MAX)
 * or a delta; old_buttons: the state the last command left, whose changes
 * become BTN_* events. The event count. */
int mouse_batch(const struct mouse_cmd *m, long ax, long ay, int old_buttons,
		struct hv_input_event *ev);

#endif
