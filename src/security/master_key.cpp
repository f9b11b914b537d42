// The master key: libsodium guarded memory, its text forms, and finding or creating it at start-up.
#include "security/master_key.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

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

// Absent file: an empty optional, so that the caller creates it.
result<std::optional<master_key>> read_key_file(const std::filesystem::path& path) {
    // O_NONBLOCK so that a FIFO planted under the name cannot hang start-up; it is refused just below.
    file_descriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!file.valid()) {
        if (errno == ENOENT) {
            return std::optional<master_key>();
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
    auto key = master_key_from_text(std::string_view(text.data(), filled));
    sodium_memzero(text.data(), text.size());
    if (!key) {
        if (filled == 0) {
            return make_error(error_code::invalid_input,
                              "the key file " + path.string() +
                                  " is empty; restore the key from a backup, or remove the file only if no "
                                  "secret was ever stored with it");
        }
        return make_error(
            error_code::invalid_input,
            "the key file " + path.string() + " does not hold a valid master key: " + key.error().message);
    }
    return std::optional<master_key>(std::move(*key));
}

// Writes the key to a fresh temporary file and links it to `path`. False when `path` already existed.
//
// The key appears under its final name only once complete and on disk, so neither a crash mid-write nor a
// second process starting at the same moment can ever see a half-written key file. The temporary is created
// with O_CREAT|O_EXCL (which also refuses a planted symlink), written, fsynced, then hard-linked: unlike
// rename(), link() fails with EEXIST rather than replace, so a concurrent winner's key is never overwritten.
result<bool> write_and_link_key_file(const std::filesystem::path& directory,
                                     const std::filesystem::path& path, const master_key& key) {
    std::array<unsigned char, 8> unique{};
    randombytes_buf(unique.data(), unique.size());
    const auto temporary_path =
        directory / ("." + std::string(master_key_file_name) + "." + hex_encode(unique) + ".tmp");

    file_descriptor file(::open(temporary_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                                S_IRUSR | S_IWUSR));
    if (!file.valid()) {
        return os_error("cannot create", temporary_path, errno);
    }
    const temporary_file remove_on_exit(temporary_path);
    // The umask can only take bits away from 0600; set it anyway, because 0600 is the documented contract.
    if (::fchmod(file.get(), S_IRUSR | S_IWUSR) != 0) {
        return os_error("cannot set the mode of", temporary_path, errno);
    }
    std::string text = key.to_text();
    text.push_back('\n');
    auto written = write_all(file.get(), text, temporary_path);
    sodium_memzero(text.data(), text.size());
    if (!written) {
        return std::move(written).error();
    }
    if (::fsync(file.get()) != 0) {
        return os_error("cannot sync", temporary_path, errno);
    }
    if (file.close() != 0) {
        return os_error("cannot close", temporary_path, errno);
    }
    if (::link(temporary_path.c_str(), path.c_str()) != 0) {
        if (errno == EEXIST) {
            return false;
        }
        return os_error("cannot create the key file", path, errno);
    }
    return true;
}

result<master_key> key_from_environment(std::string_view value) {
    if (trim_ascii_whitespace(value).empty()) {
        return make_error(error_code::invalid_input,
                          std::string(master_key_env_var) +
                              " is set but empty: set it to a master key, or unset it to use the key file in "
                              "the data directory");
    }
    auto key = master_key_from_text(value);
    if (!key) {
        return make_error(
            error_code::invalid_input,
            std::string(master_key_env_var) + " does not hold a valid master key: " + key.error().message);
    }
    return key;
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

result<master_key> load_master_key(const std::filesystem::path& data_dir) {
    ensure_initialized();
    if (const char* value = std::getenv(master_key_env_var); value != nullptr) {
        return key_from_environment(value);
    }

    // "DIR/" names DIR: create and check the directory itself, not an empty last component.
    const std::filesystem::path directory = data_dir.has_filename() ? data_dir : data_dir.parent_path();
    if (auto made = ensure_data_dir(directory); !made) {
        return std::move(made).error();
    }
    const std::filesystem::path path = directory / master_key_file_name;
    auto existing = read_key_file(path);
    if (!existing) {
        return std::move(existing).error();
    }
    if (existing->has_value()) {
        return std::move(**existing);
    }

    auto key = master_key::generate();
    auto created = write_and_link_key_file(directory, path, key);
    if (!created) {
        return std::move(created).error();
    }
    if (*created) {
        // The new name must survive a crash as well: losing the key loses every secret sealed with it.
        if (auto synced = sync_directory(directory); !synced) {
            return std::move(synced).error();
        }
        return key;
    }
    // Another process created the file between our read and our link: its key is the one to use.
    auto winner = read_key_file(path);
    if (!winner) {
        return std::move(winner).error();
    }
    if (winner->has_value()) {
        return std::move(**winner);
    }
    return make_error(error_code::internal, "the key file " + path.string() +
                                                " disappeared while MetaHog was starting; start again");
}

}  // namespace metahog::security
