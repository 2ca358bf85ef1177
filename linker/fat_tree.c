/* Paths to a tree of directory entries (see fat_tree.h). A name that is a plain 8.3 name is
 * stored as one; any other (systemd-boot's "loader.conf" and "entries/NAME.conf" are not 8.3)
 * gets VFAT long-name entries and a generated 8.3 alias. */
#include "fat_tree.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The FAT specification's short-name characters beyond letters and digits. Bytes above 127
 * are allowed there too, but their meaning depends on an OEM code page, so they are refused. */
static bool short_name_char(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && strchr("$%'-_@~`!(){}^#&", c) != NULL;
}

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

/* Whether the letters of S[0..len) are all lower case (*LOWER) or mixed (*MIXED). */
static void letter_case(const char *s, size_t len, bool *lower, bool *mixed) {
  bool lo = false, up = false;
  for (size_t i = 0; i < len; i++) {
    lo |= s[i] >= 'a' && s[i] <= 'z';
    up |= s[i] >= 'A' && s[i] <= 'Z';
  }
  *lower = lo && !up;
  *mixed = lo && up;
}

/* Encodes a component that is a plain 8.3 name; false, with *WHY, when it is not one. A name
 * part in mixed case is not one either: only a long name can show it as given. */
static bool short_name(const char *s, size_t len, uint8_t out[11], uint8_t *flags, const char **why) {
  const char *dot = memchr(s, '.', len);
  size_t base = dot ? (size_t)(dot - s) : len;
  size_t ext = dot ? len - base - 1 : 0;
  if (base == 0) return *why = "a component starting with '.'", false;
  if (base > 8) return *why = "a name longer than 8 characters before the '.'", false;
  if (dot && ext == 0) return *why = "a component ending in '.'", false;
  if (ext > 3) return *why = "an extension longer than 3 characters", false;
  for (size_t i = 0; i < len; i++)
    if (s + i != dot && !short_name_char(s[i]))
      return *why = s[i] == '.' ? "more than one '.'" : "a character not allowed in an 8.3 name", false;
  bool base_lower, base_mixed, ext_lower = false, ext_mixed = false;
  letter_case(s, base, &base_lower, &base_mixed);
  if (dot) letter_case(dot + 1, ext, &ext_lower, &ext_mixed);
  if (base_mixed || ext_mixed) return *why = "mixed case", false;
  memset(out, ' ', 11);
  for (size_t i = 0; i < base; i++) out[i] = (uint8_t)upper(s[i]);
  for (size_t i = 0; i < ext; i++) out[8 + i] = (uint8_t)upper(dot[1 + i]);
  *flags = (base_lower ? FAT_CASE_LOWER_BASE : 0) | (ext_lower ? FAT_CASE_LOWER_EXT : 0);
  return true;
}

/* Whether a component can be a long name: printable ASCII (no code page or UTF-16 surrogates to
 * get wrong), none of the characters the FAT specification forbids in long names, and no
 * leading space or trailing space or dot (which Windows strips, so such a name would not
 * round-trip). */
static bool long_name(const char *s, size_t len, const char **why) {
  if (len > FAT_LFN_MAX) return *why = "a name longer than 255 characters", false;
  if (s[0] == ' ' || s[len - 1] == ' ' || s[len - 1] == '.') return *why = "a leading space or a trailing space or '.'", false;
  for (size_t i = 0; i < len; i++)
    if (s[i] < 0x20 || s[i] > 0x7E || strchr("\\\"*:<>?|", s[i]) != NULL)
      return *why = "a character not allowed in a FAT name (control, non-ASCII, or one of \\ \" * : < > ? |)", false;
  return true;
}

int fat_label(const char *label, uint8_t out[11], core_error **err) {
  memcpy(out, "NO NAME    ", 11);
  if (label == NULL || label[0] == '\0') return 0;
  size_t len = strlen(label);
  if (len > 11) return core_error_set(err, 0, "FAT volume label '%s' is longer than 11 characters", label);
  memset(out, ' ', 11);
  for (size_t i = 0; i < len; i++) {
    if (label[i] != ' ' && !short_name_char(label[i]))
      return core_error_set(err, 0, "FAT volume label '%s' has a character not allowed in a label", label);
    out[i] = (uint8_t)upper(label[i]);
  }
  return 0;
}

static int add_node(fat_tree *t, size_t parent, const char *comp, size_t comp_len, bool is_long, const uint8_t name[11],
                    uint8_t flags, bool is_dir, size_t *out, core_error **err) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    fat_node *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL) return core_error_set(err, ENOMEM, "allocating FAT directory entries");
    t->v = v;
    t->cap = cap;
  }
  size_t i = t->n++;
  fat_node *nd = &t->v[i];
  *nd = (fat_node){.case_flags = flags, .is_dir = is_dir, .parent = parent, .first = FAT_NONE, .last = FAT_NONE,
                   .next = FAT_NONE, .file = FAT_NONE};
  memcpy(nd->name, name, 11);
  nd->comp = comp;
  nd->comp_len = comp_len;
  if (is_long) {
    nd->lname = comp;
    nd->lname_len = comp_len;
  }
  if (parent != FAT_NONE) {
    fat_node *p = &t->v[parent];
    if (p->last == FAT_NONE)
      p->first = i;
    else
      t->v[p->last].next = i;
    p->last = i;
    p->n_slots += fat_node_slots(nd);
  }
  *out = i;
  return 0;
}

/* FAT names compare case-insensitively, long and short alike. */
static size_t find_child(const fat_tree *t, size_t dir, const char *comp, size_t len) {
  for (size_t c = t->v[dir].first; c != FAT_NONE; c = t->v[c].next)
    if (t->v[c].comp_len == len && strncasecmp(t->v[c].comp, comp, len) == 0) return c;
  return FAT_NONE;
}

/* Whether DIR can take SLOTS more entries: a subdirectory also holds "." and "..". */
static bool dir_has_room(const fat_tree *t, size_t dir, uint32_t slots) {
  return (uint64_t)t->v[dir].n_slots + (dir == 0 ? 0u : 2u) + slots <= FAT_MAX_DIR_ENTRIES;
}

/* Checks and encodes one component: an 8.3 name when it is one, else a long name whose alias
 * is chosen once the whole directory is known. */
static int component(const char *path, const char *p, size_t len, uint8_t name[11], uint8_t *flags, bool *is_long,
                     core_error **err) {
  const char *why = NULL;
  if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
    return core_error_set(err, 0, "FAT path '%s' has an empty, '.' or '..' component", path);
  *is_long = !short_name(p, len, name, flags, &why);
  if (!*is_long) return 0;
  if (!long_name(p, len, &why)) return core_error_set(err, 0, "FAT path '%s': '%.*s' has %s", path, (int)len, p, why);
  memset(name, 0, 11);
  *flags = 0;
  return 0;
}

static int add_path(fat_tree *t, const core_fat_file *f, size_t index, core_error **err) {
  const char *path = f->path;
  if (path == NULL) return core_error_set(err, 0, "FAT file %zu has no path", index);
  size_t dir = 0;
  for (const char *p = path;;) {
    const char *slash = strchr(p, '/');
    size_t len = slash ? (size_t)(slash - p) : strlen(p);
    uint8_t name[11], flags = 0;
    bool is_long;
    if (component(path, p, len, name, &flags, &is_long, err) < 0) return -1;
    size_t c = find_child(t, dir, p, len);
    uint32_t slots = 1 + (is_long ? (uint32_t)((len + FAT_LFN_CHARS - 1) / FAT_LFN_CHARS) : 0);
    if (c == FAT_NONE && !dir_has_room(t, dir, slots))
      return core_error_set(err, 0, "FAT path '%s': its directory already holds the most entries a FAT directory can (65536)", path);
    if (slash == NULL) {
      if (c != FAT_NONE && t->v[c].is_dir) return core_error_set(err, 0, "FAT path '%s' is both a file and a directory", path);
      if (c != FAT_NONE) return core_error_set(err, 0, "duplicate FAT path '%s' (names compare case-insensitively)", path);
      if (add_node(t, dir, p, len, is_long, name, flags, false, &c, err) < 0) return -1;
      t->v[c].file = index;
      t->v[c].size = f->content->size;
      return 0;
    }
    if (c != FAT_NONE && !t->v[c].is_dir)
      return core_error_set(err, 0, "FAT path '%s': '%.*s' is a file, so it cannot be a directory too", path,
                            (int)(slash - path), path);
    if (c == FAT_NONE && add_node(t, dir, p, len, is_long, name, flags, true, &c, err) < 0) return -1;
    dir = c;
    p = slash + 1;
  }
}

static bool sibling_has(const fat_tree *t, size_t dir, const uint8_t name[11]) {
  for (size_t c = t->v[dir].first; c != FAT_NONE; c = t->v[c].next)
    if (memcmp(t->v[c].name, name, 11) == 0) return true;
  return false;
}

/* The basis of an alias, as the FAT specification describes it: upper case, spaces and all but
 * the last '.' dropped, characters an 8.3 name cannot hold replaced by '_'. */
static void alias_basis(const char *s, size_t len, char base[9], char ext[4]) {
  const char *last_dot = NULL;
  for (size_t i = 0; i < len; i++)
    if (s[i] == '.') last_dot = s + i;
  size_t nb = 0, ne = 0;
  for (const char *p = s; p < s + len; p++) {
    if (*p == ' ' || (*p == '.' && p != last_dot)) continue;
    if (p == last_dot) continue;
    char c = short_name_char(*p) ? upper(*p) : '_';
    if (last_dot && p > last_dot) {
      if (ne < 3) ext[ne++] = c;
    } else if (nb < 8) {
      base[nb++] = c;
    }
  }
  base[nb] = ext[ne] = '\0';
}

/* "~N" numeric tails: the first free one among the siblings, tried in order, so the aliases
 * depend on the input alone. */
static int alias(fat_tree *t, size_t i, core_error **err) {
  fat_node *nd = &t->v[i];
  char base[9], ext[4];
  alias_basis(nd->lname, nd->lname_len, base, ext);
  if (base[0] == '\0') memcpy(base, "_", 2);
  for (uint32_t n = 1; n < 1000000; n++) {
    char tail[9];
    int tl = snprintf(tail, sizeof tail, "~%u", n);
    size_t keep = strlen(base) < 8 - (size_t)tl ? strlen(base) : 8 - (size_t)tl;
    uint8_t name[11];
    memset(name, ' ', 11);
    memcpy(name, base, keep);
    memcpy(name + keep, tail, (size_t)tl);
    memcpy(name + 8, ext, strlen(ext));
    if (!sibling_has(t, nd->parent, name)) {
      memcpy(nd->name, name, 11);
      return 0;
    }
  }
  return core_error_set(err, 0, "no free 8.3 alias for FAT name '%.*s'", (int)nd->lname_len, nd->lname);
}

int fat_tree_build(fat_tree *t, const core_fat_file *files, size_t n, core_error **err) {
  size_t root;
  if (add_node(t, FAT_NONE, "", 0, false, (const uint8_t *)"           ", 0, true, &root, err) < 0) return -1;
  for (size_t i = 0; i < n; i++) {
    if (files[i].content == NULL) return core_error_set(err, 0, "FAT path '%s' has no content", files[i].path ? files[i].path : "?");
    if (files[i].content->size > UINT32_MAX)
      return core_error_set(err, 0, "FAT path '%s' is %llu bytes; a FAT file holds at most 4 GiB - 1", files[i].path,
                            (unsigned long long)files[i].content->size);
    if (add_path(t, &files[i], i, err) < 0) return -1;
  }
  for (size_t i = 1; i < t->n; i++)
    if (t->v[i].lname && alias(t, i, err) < 0) return -1;
  return 0;
}

void fat_tree_release(fat_tree *t) {
  free(t->v);
  *t = (fat_tree){0};
}
