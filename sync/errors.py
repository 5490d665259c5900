"""Protocol-level error codes with their human messages (Chinese first, English second).

These codes appear on the wire: in `rejected` acks, in quarantine rows and in HTTP error
bodies. They live here, not in the server, because the reference client and any other
client must be able to show the same words without asking the server.
"""

from __future__ import annotations

from dataclasses import dataclass

# code -> (message_zh, message_en). Messages may carry {placeholders} filled from params.
MESSAGES: dict[str, tuple[str, str]] = {
    # request envelope (HTTP 400): the client has a bug; retrying the same bytes will not help
    "bad_json": ("请求不是有效的 JSON。", "The request body is not valid JSON."),
    "bad_gzip": ("请求的 gzip 压缩数据已损坏。", "The gzip request body is corrupt."),
    "bad_field": ("字段 {field} 无效：{detail}", "Field {field} is invalid: {detail}"),
    "protocol_unsupported": (
        "客户端协议版本 {protocol} 不受支持，请更新应用。",
        "Protocol version {protocol} is not supported; please update the app.",
    ),
    "too_many_ops": (
        "一次最多同步 {max_ops} 条记录，请分批发送。",
        "At most {max_ops} operations per request; send them in smaller batches.",
    ),
    "body_too_large": (
        "一次发送的内容太多（上限 {max_mb} MB），请分批发送。",
        "The request body is too large (limit {max_mb} MB); send it in smaller batches.",
    ),
    "device_mismatch": (
        "此登录凭证属于另一台设备。",
        "This token was issued to a different device.",
    ),
    "device_in_use": (
        "这台设备仍由另一位用户登录。请其在这台手机上退出登录，或请主管在“设备”页注销这台设备。",
        "This device is still signed in to another user. Ask them to log out on this phone, "
        "or a supervisor to sign the device out on the Devices page.",
    ),
    "login_superseded": (
        "这台手机刚刚又登录了一次，这次较早的登录已作废。请使用最新的登录，或再登录一次。",
        "This phone logged in again meanwhile; this earlier login was set aside. Use the newer "
        "login, or log in again.",
    ),
    "too_many_logins": (
        "尝试次数太多，请 {minutes} 分钟后再登录。",
        "Too many login attempts. Wait {minutes} min, then log in.",
    ),
    "too_many_requests": (
        "同步太频繁，请 {retry_after} 秒后再试。",
        "Too many sync requests; retry in {retry_after} s.",
    ),
    # per-op rejections (ack status `rejected`, kept in quarantine)
    "op_id_reused": (
        "操作编号 {op_id} 已用于另一份不同的数据，本次数据已隔离待查。",
        "Operation id {op_id} was already used with different data; this copy is quarantined.",
    ),
    "unknown_op_type": ("不支持的操作类型 {type}。", "Unsupported operation type {type}."),
    "invalid_op": ("记录格式有误：{field} {detail}", "Malformed record: {field} {detail}"),
    "unknown_point": ("服务点 {point_code} 不存在。", "Service point {point_code} does not exist."),
    "out_of_scope": (
        "服务点 {point_code} 不在您的负责范围内。",
        "Service point {point_code} is outside your area.",
    ),
    "point_inactive": (
        "服务点 {point_code} 已停用，不能再提交新的检查。",
        "Service point {point_code} is closed; it takes no new inspections.",
    ),
    "author_mismatch": (
        "这条记录由另一位检查员（用户 {author}）填写，只能由其本人登录后上传；此次上传已隔离待查。",
        "This record was made by another inspector (user {author}); only their own login may "
        "upload it. This upload is quarantined.",
    ),
    "not_owner": (
        "这份检查记录属于其他检查员。",
        "This inspection belongs to another inspector.",
    ),
    "unknown_template": (
        "检查表 {template_key} 第 {template_version} 版不存在。",
        "Checklist {template_key} version {template_version} does not exist.",
    ),
    "template_mismatch": (
        "检查表 {template_key} 不适用于此类服务点。",
        "Checklist {template_key} does not apply to this kind of service point.",
    ),
    "bad_value": ("检查项 {field} 的答案无效：{detail}", "Answer {field} is invalid: {detail}"),
    "immutable_field": (
        "记录创建后不能修改 {field}。",
        "{field} cannot change after the record was created.",
    ),
    "bad_base_rev": (
        "基础版本 {base_rev} 比服务器上的版本 {rev} 还新。",
        "Base revision {base_rev} is newer than the server's revision {rev}.",
    ),
    "unknown_base_op": (
        "所依据的操作 {base_op_id} 服务器尚未收到。",
        "The operation this one builds on ({base_op_id}) has not reached the server.",
    ),
    "unknown_cycle": (
        "检查周期 {cycle_id} 不存在。",
        "Inspection cycle {cycle_id} does not exist.",
    ),
    # auth (HTTP 401)
    "bad_credentials": ("用户名或密码错误。", "Wrong username or password."),
    "token_invalid": (
        "登录凭证无效，请重新登录。",
        "The login token is invalid; please log in again.",
    ),
    "token_expired": ("登录已过期，请重新登录。", "Your login has expired; please log in again."),
    "token_revoked": (
        "此设备已被注销，请重新登录。",
        "This device was signed out; please log in again.",
    ),
    # blobs
    "offset_mismatch": (
        "服务器已收到 {received} 字节，请从该处继续上传。",
        "The server holds {received} bytes; continue the upload from there.",
    ),
    "hash_mismatch": (
        "照片内容与其校验值不符，已丢弃，请重新上传。",
        "The photo does not match its checksum and was discarded; upload it again.",
    ),
    "too_large": (
        "照片太大（{size_mb} MB），上限为 {max_mb} MB。请在手机上压缩后重试。",
        "The photo is too large ({size_mb} MB); the limit is {max_mb} MB. Compress it and retry.",
    ),
    "unsupported_type": (
        "只接受 JPEG、PNG 或 WebP 格式的照片，这个文件不是照片，已拒收。",
        "Only JPEG, PNG or WebP photos are accepted; this file is not one and was refused.",
    ),
    "upload_busy": (
        "这张照片正在由另一个连接上传，请 {retry_after} 秒后重试。",
        "This photo is being uploaded over another connection; retry in {retry_after} s.",
    ),
    "server_busy": (
        "服务器正忙，请 {retry_after} 秒后重试。已发送的数据不会丢失。",
        "The server is busy; retry in {retry_after} s. Nothing sent is lost.",
    ),
    "upload_idle": (
        "上传中断：已收到 {received} 字节，请从该处继续上传。",
        "The upload stalled; the server holds {received} bytes: continue from there.",
    ),
    "photo_not_named": (
        "这张照片不属于您的任何检查记录：请先同步记录，再上传它的照片。",
        "No inspection of yours names this photo: sync the record first, then its photos.",
    ),
    "bad_range": ("Content-Range 头格式错误。", "The Content-Range header is malformed."),
    "bad_sha256": (
        "照片名必须是 64 位十六进制 SHA-256。",
        "A photo name must be a 64-hex SHA-256.",
    ),
}


def render(code: str, **params: object) -> tuple[str, str]:
    """The (zh, en) messages for a code; unknown placeholders are left visible, not raised."""
    zh, en = MESSAGES.get(code, (code, code))

    class _Keep(dict):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    p = _Keep({k: v for k, v in params.items()})
    return zh.format_map(p), en.format_map(p)


@dataclass(frozen=True)
class Rejection:
    """Why one op was refused: a code, the field at fault (dotted path) and message params."""

    code: str
    field: str | None = None
    params: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, code: str, field: str | None = None, **params: object) -> Rejection:
        return cls(code, field, tuple(sorted(params.items())))

    def messages(self) -> tuple[str, str]:
        return render(self.code, field=self.field, **dict(self.params))


class MessageError(ValueError):
    """A malformed message. ``field`` is a dotted path such as ``ops[3].hlc``."""

    def __init__(self, field: str, detail: str, code: str = "bad_field") -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail
        self.code = code
