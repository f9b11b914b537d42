// The master keys: libsodium guarded memory, text forms, keyrings, and reading, writing or creating the key
// file.
#include "security/master_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "security/ensure_initialized.hpp"
#include "security/text_encoding.hpp"

namespace metahog::security {
namespace {

// Standard base64 of 32 bytes with padding.
constexpr std::size_t base64_key_length = 44;
constexpr std::size_t hex_key_length = 64;
// A key file is one short line; anything much larger is not a key file and is not read whole.
constexpr std::size_t max_key_file_size = 4096;

std::string_view trim_ascii_whitespace(std::string_view text) {
    constexpr std::string_view whitespace = " \t\r\n\f\v";
    const auto first = text.find_first_not_of(whitespace);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(whitespace);
    return text.substr(first, last - first + 1);
}

error os_error(const std::string& what, const std::filesystem::path& path, int error_number) {
    // std::generic_category().message is thread-safe, unlike strerror.
    return make_error(error_code::internal,
                      what + " " + path.string() + ": " + std::generic_category().message(error_number));
}

std::string octal_mode(mode_t mode) {
    std::array<char, 8> text{};
    std::snprintf(text.data(), text.size(), "%04o", static_cast<unsigned>(mode & 07777));
    return text.data();
}

// Owns one POSIX file descriptor.
class file_descriptor {
public:
    explicit file_descriptor(int descriptor) noexcept : descriptor_(descriptor) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (descriptor_ >= 0) {
            ::close(descriptor_);
        }
    }

    int get() const noexcept { return descriptor_; }
    bool valid() const noexcept { return descriptor_ >= 0; }
    // close() can report a failed write-back, so writers call this and check it.
    int close() noexcept { return ::close(std::exchange(descriptor_, -1)); }

private:
    int descriptor_;
};

// Unlinks a temporary file on every way out of the scope that created it.
class temporary_file {
public:
    explicit temporary_file(std::filesystem::path path) : path_(std::move(path)) {}
    temporary_file(const temporary_file&) = delete;
    temporary_file& operator=(const temporary_file&) = delete;
    ~temporary_file() { ::unlink(path_.c_str()); }

private:
    std::filesystem::path path_;
};

result<void> write_all(int descriptor, std::string_view bytes, const std::filesystem::path& path) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(descriptor, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            return os_error("cannot write", path, errno);
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
    return {};
}

result<void> sync_directory(const std::filesystem::path& directory) {
    file_descriptor handle(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!handle.valid() || ::fsync(handle.get()) != 0) {
        return os_error("cannot sync directory", directory, errno);
    }
    return {};
}

result<void> ensure_data_dir(const std::filesystem::path& data_dir) {
    std::error_code failure;
    if (std::filesystem::is_directory(data_dir, failure)) {
        return {};
    }
    if (const auto parent = data_dir.parent_path(); !parent.empty()) {
        std::filesystem::create_directories(parent, failure);
        if (failure) {
            return make_error(error_code::internal,
                              "cannot create directory " + parent.string() + ": " + failure.message());
        }
    }
    // 0700: the directory holds the key file and MetaHog's metadata; nobody else needs even to list it.
    if (::mkdir(data_dir.c_str(), S_IRWXU) != 0 && errno != EEXIST) {
        return os_error("cannot create the data directory", data_dir, errno);
    }
    if (!std::filesystem::is_directory(data_dir, failure)) {
        return make_error(error_code::invalid_input,
                          "the data directory " + data_dir.string() + " exists but is not a directory");
    }
    return {};
}

key_file_stamp stamp_of(const struct stat& status) {
    key_file_stamp stamp;
    stamp.device = static_cast<std::uint64_t>(status.st_dev);
    stamp.inode = static_cast<std::uint64_t>(status.st_ino);
    stamp.size = static_cast<std::int64_t>(status.st_size);
    stamp.modified_ns = static_cast<std::int64_t>(status.st_mtim.tv_sec) * 1'000'000'000 + status.st_mtim.tv_nsec;
    stamp.changed_ns = static_cast<std::int64_t>(status.st_ctim.tv_sec) * 1'000'000'000 + status.st_ctim.tv_nsec;
    return stamp;
}

// "# ..." comment lines, then one key per line: what rotate-key and the first start write.
std::string keyring_file_text(const keyring& keys) {
    std::string text =
        "# MetaHog master keys. The first key seals new secrets; every key here opens them.\n"
        "# Written by MetaHog (`metahog rotate-key`); keep it secret, mode 0600, and back it up.\n";
    for (const auto& key : keys.keys()) {
        std::string line = key->to_text();
        text += line;
        text.push_back('\n');
        sodium_memzero(line.data(), line.size());
    }
    return text;
}

// Writes `text` to a fresh temporary file of mode 0600 beside `path` and fsyncs it; the caller links or
// renames it into place and removes the temporary name afterwards; on failure nothing is left behind.
result<std::filesystem::path> write_temporary_file(const std::filesystem::path& path, std::string_view text) {
    std::array<unsigned char, 8> unique{};
    randombytes_buf(unique.data(), unique.size());
    const auto temporary_path =
        path.parent_path() / ("." + path.filename().string() + "." + hex_encode(unique) + ".tmp");

    // O_EXCL also refuses a symlink planted under the temporary name.
    file_descriptor file(::open(temporary_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                                S_IRUSR | S_IWUSR));
    if (!file.valid()) {
        return os_error("cannot create", temporary_path, errno);
    }
    auto written = [&]() -> result<void> {
        // The umask can only take bits away from 0600; set it anyway, because 0600 is the documented contract.
        if (::fchmod(file.get(), S_IRUSR | S_IWUSR) != 0) {
            return os_error("cannot set the mode of", temporary_path, errno);
        }
        if (auto all = write_all(file.get(), text, temporary_path); !all) {
            return all;
        }
        if (::fsync(file.get()) != 0) {
            return os_error("cannot sync", temporary_path, errno);
        }
        if (file.close() != 0) {
            return os_error("cannot close", temporary_path, errno);
        }
        return {};
    }();
    if (!written) {
        ::unlink(temporary_path.c_str());
        return std::move(written).error();
    }
    return temporary_path;
}

// The keyring's file text written as above; the text is wiped from memory either way.
result<std::filesystem::path> write_temporary_key_file(const std::filesystem::path& path,
                                                       const keyring& keys) {
    std::string text = keyring_file_text(keys);
    auto temporary = write_temporary_file(path, text);
    sodium_memzero(text.data(), text.size());
    return temporary;
}

// Writes the keyring to a fresh temporary file and links it to `path`. False when `path` already existed.
//
// The key appears under its final name only once complete and on disk, so neither a crash mid-write nor a
// second process starting at the same moment can ever see a half-written key file. Unlike rename(), link()
// fails with EEXIST rather than replace, so a concurrent winner's key is never overwritten.
result<bool> write_and_link_key_file(const std::filesystem::path& path, const keyring& keys) {
    auto temporary = write_temporary_key_file(path, keys);
    if (!temporary) {
        return std::move(temporary).error();
    }
    const temporary_file remove_on_exit(*temporary);
    if (::link(temporary->c_str(), path.c_str()) != 0) {
        if (errno == EEXIST) {
            return false;
        }
        return os_error("cannot create the key file", path, errno);
    }
    return true;
}

result<keyring> keys_from_environment(std::string_view value) {
    if (trim_ascii_whitespace(value).empty()) {
        return make_error(error_code::invalid_input,
                          std::string(master_key_env_var) +
                              " is set but empty: set it to a master key, or unset it to use the key file in "
                              "the data directory");
    }
    auto keys = keyring_from_text(value);
    if (!keys) {
        return make_error(error_code::invalid_input, std::string(master_key_env_var) +
                                                         " does not hold valid master keys: " +
                                                         keys.error().message);
    }
    return keys;
}

bool is_separator(char c) {
    return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

}  // namespace

void master_key::secure_memory_deleter::operator()(unsigned char* memory) const noexcept {
    // Makes the pages writable again, wipes them, unlocks and unmaps them.
    sodium_free(memory);
}

master_key::master_key(secure_memory memory, std::string id)
    : memory_(std::move(memory)), id_(std::move(id)) {}

master_key::secure_memory master_key::allocate() {
    ensure_initialized();
    // sodium_malloc puts the bytes right before a guard page, behind a canary, and mlocks them (best effort:
    // a low RLIMIT_MEMLOCK only loses the protection from swap), so an overrun faults and swap never sees
    // them.
    auto* memory = static_cast<unsigned char*>(sodium_malloc(master_key_size));
    if (memory == nullptr) {
        throw std::bad_alloc();
    }
    return secure_memory(memory);
}

master_key master_key::adopt(secure_memory memory) {
    std::array<unsigned char, crypto_generichash_BYTES> digest{};
    crypto_generichash(digest.data(), digest.size(), memory.get(), master_key_size, nullptr, 0);
    std::string id = hex_encode(std::span<const unsigned char>(digest.data(), 8));
    // Read-only from here on: a stray write faults instead of silently changing the key. Unlike toggling
    // no-access around each use, read-only stays safe with many threads sealing at once.
    if (sodium_mprotect_readonly(memory.get()) != 0) {
        throw std::runtime_error("cannot protect the master key memory");
    }
    return master_key(std::move(memory), std::move(id));
}

master_key master_key::generate() {
    auto memory = allocate();
    randombytes_buf(memory.get(), master_key_size);
    return adopt(std::move(memory));
}

master_key master_key::from_bytes(std::span<const unsigned char, master_key_size> bytes) {
    auto memory = allocate();
    std::memcpy(memory.get(), bytes.data(), master_key_size);
    return adopt(std::move(memory));
}

std::string master_key::to_text() const {
    return base64_encode(bytes());
}

std::span<const unsigned char, master_key_size> master_key::bytes() const {
    if (!memory_) {
        throw std::logic_error("master_key used after it was moved from");
    }
    return std::span<const unsigned char, master_key_size>(memory_.get(), master_key_size);
}

result<master_key> master_key_from_text(std::string_view text) {
    ensure_initialized();
    const std::string_view trimmed = trim_ascii_whitespace(text);
    // Decoded straight into a stack array that is wiped below, never into a growing std::string.
    std::array<unsigned char, master_key_size> raw{};
    std::size_t decoded = 0;
    bool valid = false;
    if (trimmed.size() == base64_key_length) {
        valid = sodium_base642bin(raw.data(), raw.size(), trimmed.data(), trimmed.size(), nullptr, &decoded,
                                  nullptr, sodium_base64_VARIANT_ORIGINAL) == 0;
    } else if (trimmed.size() == hex_key_length) {
        valid = sodium_hex2bin(raw.data(), raw.size(), trimmed.data(), trimmed.size(), nullptr, &decoded,
                               nullptr) == 0;
    }
    if (!valid || decoded != master_key_size) {
        sodium_memzero(raw.data(), raw.size());
        return make_error(
            error_code::invalid_input,
            "expected 32 bytes written as 44 characters of standard base64 or as 64 hex digits, "
            "but the value has " +
                std::to_string(trimmed.size()) + " characters and is neither");
    }
    auto key = master_key::from_bytes(raw);
    sodium_memzero(raw.data(), raw.size());
    return key;
}

keyring::keyring(std::vector<std::shared_ptr<const master_key>> keys) {
    for (auto& key : keys) {
        if (!key) {
            throw std::invalid_argument("keyring: null key");
        }
        if (find(key->id()) == nullptr) {
            keys_.push_back(std::move(key));
        }
    }
    if (keys_.empty()) {
        throw std::invalid_argument("keyring: no key");
    }
}

const master_key* keyring::find(std::string_view id) const noexcept {
    for (const auto& key : keys_) {
        if (key->id() == id) {
            return key.get();
        }
    }
    return nullptr;
}

std::vector<std::string> keyring::ids() const {
    std::vector<std::string> ids;
    for (const auto& key : keys_) {
        ids.emplace_back(key->id());
    }
    return ids;
}

result<keyring> keyring_from_text(std::string_view text) {
    // Comment lines go first, so that a '#' never starts a key.
    std::vector<std::string_view> tokens;
    while (!text.empty()) {
        const auto end_of_line = text.find('\n');
        std::string_view line = text.substr(0, end_of_line);
        text.remove_prefix(end_of_line == std::string_view::npos ? text.size() : end_of_line + 1);
        if (trim_ascii_whitespace(line).starts_with('#')) {
            continue;
        }
        while (!line.empty()) {
            const auto* start = std::find_if_not(line.begin(), line.end(), is_separator);
            const auto* stop = std::find_if(start, line.end(), is_separator);
            if (start != stop) {
                tokens.emplace_back(start, static_cast<std::size_t>(stop - start));
            }
            line.remove_prefix(static_cast<std::size_t>(stop - line.begin()));
        }
    }
    if (tokens.empty()) {
        return make_error(error_code::invalid_input, "there is no key in it");
    }
    if (tokens.size() > max_keyring_size) {
        return make_error(error_code::invalid_input, "it holds " + std::to_string(tokens.size()) +
                                                         " keys, more than the " +
                                                         std::to_string(max_keyring_size) + " allowed");
    }
    std::vector<std::shared_ptr<const master_key>> keys;
    for (std::size_t index = 0; index < tokens.size(); ++index) {
        auto key = master_key_from_text(tokens[index]);
        if (!key) {
            std::string position = tokens.size() == 1 ? std::string()
                                                      : "key " + std::to_string(index + 1) + " of " +
                                                            std::to_string(tokens.size()) + ": ";
            return make_error(error_code::invalid_input, position + key.error().message);
        }
        keys.push_back(std::make_shared<const master_key>(std::move(*key)));
    }
    return keyring(std::move(keys));
}

std::filesystem::path key_file_path(const std::filesystem::path& data_dir) {
    // "DIR/" names DIR: the file is inside it, not beside an empty last component.
    const std::filesystem::path directory = data_dir.has_filename() ? data_dir : data_dir.parent_path();
    return directory / master_key_file_name;
}

result<std::optional<key_file_contents>> read_keyring_file(const std::filesystem::path& path) {
    // O_NONBLOCK so that a FIFO planted under the name cannot hang start-up; it is refused just below.
    file_descriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!file.valid()) {
        if (errno == ENOENT) {
            return std::optional<key_file_contents>();
        }
        return os_error("cannot open the key file", path, errno);
    }
    struct stat status {};
    if (::fstat(file.get(), &status) != 0) {
        return os_error("cannot inspect the key file", path, errno);
    }
    if (!S_ISREG(status.st_mode)) {
        return make_error(error_code::invalid_input,
                          "the key file " + path.string() + " is not a regular file");
    }
    // Checked on the open descriptor, not the name, so the answer is about the file actually read.
    if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return make_error(error_code::invalid_input, "the key file " + path.string() +
                                                         " may be accessed by group or others (mode " +
                                                         octal_mode(status.st_mode) + "); run `chmod 600 " +
                                                         path.string() + "` and start again");
    }

    std::string text(max_key_file_size + 1, '\0');
    std::size_t filled = 0;
    while (filled < text.size()) {
        const ssize_t got = ::read(file.get(), text.data() + filled, text.size() - filled);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int read_errno = errno;
            sodium_memzero(text.data(), text.size());
            return os_error("cannot read the key file", path, read_errno);
        }
        if (got == 0) {
            break;
        }
        filled += static_cast<std::size_t>(got);
    }
    if (filled > max_key_file_size) {
        sodium_memzero(text.data(), text.size());
        return make_error(error_code::invalid_input,
                          "the key file " + path.string() + " is not a MetaHog key file (it is too large)");
    }
    const bool blank = trim_ascii_whitespace(std::string_view(text.data(), filled)).empty();
    auto keys = keyring_from_text(std::string_view(text.data(), filled));
    sodium_memzero(text.data(), text.size());
    if (!keys) {
        if (blank) {
            return make_error(error_code::invalid_input,
                              "the key file " + path.string() +
                                  " is empty; restore the key from a backup, or remove the file only if no "
                                  "secret was ever stored with it");
        }
        return make_error(error_code::invalid_input, "the key file " + path.string() +
                                                         " does not hold valid master keys: " +
                                                         keys.error().message);
    }
    return std::optional<key_file_contents>(key_file_contents{std::move(*keys), stamp_of(status)});
}

result<std::optional<key_file_stamp>> stat_key_file(const std::filesystem::path& path) {
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        if (errno == ENOENT) {
            return std::optional<key_file_stamp>();
        }
        return os_error("cannot inspect the key file", path, errno);
    }
    return std::optional<key_file_stamp>(stamp_of(status));
}

result<void> write_keyring_file(const std::filesystem::path& path, const keyring& keys) {
    auto temporary = write_temporary_key_file(path, keys);
    if (!temporary) {
        return std::move(temporary).error();
    }
    const temporary_file remove_on_exit(*temporary);
    // rename() replaces the name in one step: a reader opens the old file or the new one, never neither.
    if (::rename(temporary->c_str(), path.c_str()) != 0) {
        return os_error("cannot replace the key file", path, errno);
    }
    // The new name must survive a crash as well: losing the key loses every secret sealed with it.
    return sync_directory(path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

result<loaded_keyring> load_keyring(const std::filesystem::path& data_dir, const secrets_exist_check& secrets_exist) {
    ensure_initialized();
    if (const char* value = std::getenv(master_key_env_var); value != nullptr) {
        auto keys = keys_from_environment(value);
        if (!keys) {
            return std::move(keys).error();
        }
        return loaded_keyring{std::move(*keys), key_origin::environment, {}, std::nullopt};
    }

    const std::filesystem::path path = key_file_path(data_dir);
    const std::filesystem::path directory = path.parent_path();
    if (auto made = ensure_data_dir(directory); !made) {
        return std::move(made).error();
    }
    auto existing = read_keyring_file(path);
    if (!existing) {
        return std::move(existing).error();
    }
    if (existing->has_value()) {
        return loaded_keyring{std::move((*existing)->keys), key_origin::file, path, (*existing)->stamp};
    }
    if (secrets_exist) {
        auto exist = secrets_exist();
        if (!exist) {
            return std::move(exist).error();
        }
        if (*exist) {
            return make_error(error_code::invalid_input,
                              "the key file " + path.string() +
                                  " is missing but the data directory holds sealed secrets; restore the key "
                                  "file from a backup or set " + std::string(master_key_env_var) +
                                  " (a new key could not open them, so none is created)");
        }
    }

    keyring fresh({std::make_shared<const master_key>(master_key::generate())});
    auto created = write_and_link_key_file(path, fresh);
    if (!created) {
        return std::move(created).error();
    }
    if (*created) {
        // The new name must survive a crash as well: losing the key loses every secret sealed with it.
        if (auto synced = sync_directory(directory); !synced) {
            return std::move(synced).error();
        }
    }
    // Read back either way: our file, or the one another process created between our read and our link.
    auto winner = read_keyring_file(path);
    if (!winner) {
        return std::move(winner).error();
    }
    if (winner->has_value()) {
        return loaded_keyring{std::move((*winner)->keys), key_origin::file, path, (*winner)->stamp};
    }
    return make_error(error_code::internal, "the key file " + path.string() +
                                                " disappeared while MetaHog was starting; start again");
}

result<master_key> load_master_key(const std::filesystem::path& data_dir) {
    auto loaded = load_keyring(data_dir);
    if (!loaded) {
        return std::move(loaded).error();
    }
    return master_key::from_bytes(loaded->keys.primary().bytes());
}

}  // namespace metahog::security
