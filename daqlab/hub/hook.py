"""The pre-spawn hook body shared by the single-machine hub and Zero to JupyterHub.

This module must stay self-contained (no imports at module level, none from daqlab): :mod:`daqlab.hub.z2jh`
copies the source of its functions into the Helm values' ``hub.extraConfig``, where daqlab is not installed.

Contract: ``environments`` maps hub user name -> environment (built by
:func:`daqlab.hub.accounts.user_environment`); the spawner's environment is extended with the user's;
a user absent from it cannot start a server (a clear error on the spawn page), so nobody outside the
roster gets a station or a role by accident.

Kubernetes only: :func:`add_mqtt_password` derives the user's broker password in the hub pod from the MQTT
secret (a Kubernetes Secret in the hub's environment), so the Helm values never hold a password. It computes
exactly :func:`daqlab.northbound.accounts.derive_password` (a test pins the two together).
"""


def set_user_environment(spawner, environments):
    """Give ``spawner`` its user's DAQ Lab environment; refuse users without one."""
    name = spawner.user.name
    if name not in environments:
        raise RuntimeError(f"DAQ Lab: {name!r} is not in the roster; ask the instructor to add them")
    env = dict(spawner.environment or {})
    env.update(environments[name])
    spawner.environment = env
    return env


def add_role_volumes(spawner, role_volumes, role):
    """Kubernetes only: add the role's volumes and mounts (``{"volumes": [...], "volume_mounts": [...]}``;
    ``{username}`` in a mount's ``subPath`` becomes the user's name) to a KubeSpawner's lists."""
    extra = role_volumes.get(role, {})
    mounts = []
    for m in extra.get("volume_mounts", []):
        m = dict(m)
        for key in ("subPath", "mountPath"):
            if key in m:
                m[key] = m[key].replace("{username}", spawner.user.name)
        mounts.append(m)

    def extend(current, new):  # KubeSpawner takes a list, or (newer) a dict keyed by name
        if isinstance(current, dict):
            return {**current, **{f"daqlab-{i}-{x['name']}": x for i, x in enumerate(new)}}
        return list(current or []) + list(new)

    spawner.volumes = extend(spawner.volumes, [dict(v) for v in extra.get("volumes", [])])
    spawner.volume_mounts = extend(spawner.volume_mounts, mounts)
    return mounts


def add_mqtt_password(spawner, secret):
    """Kubernetes only: set ``DAQLAB_MQTT_PASSWORD`` for the ``DAQLAB_MQTT_USER`` of ``spawner.environment``:
    the first 16 characters of the lower-case base32 of HMAC-SHA256(secret, user). Nothing happens without a
    user or a secret (the kernel then meets a clear "not authorised" from the broker)."""
    import base64
    import hashlib
    import hmac

    env = dict(spawner.environment or {})
    user = env.get("DAQLAB_MQTT_USER")
    if not (user and secret):
        return None
    digest = hmac.new(secret.encode(), user.encode(), hashlib.sha256).digest()
    env["DAQLAB_MQTT_PASSWORD"] = base64.b32encode(digest).decode().lower()[:16]
    spawner.environment = env
    return env["DAQLAB_MQTT_PASSWORD"]


def add_user_label(spawner):
    """Kubernetes only: label the user's pod ``daqlab.io/user=<name>`` (letters and digits kept, any other
    character as ``x`` + its hex code), the label the per-user NetworkPolicies (``daqlab hub render-z2jh``)
    select on: it does not depend on how a KubeSpawner version escapes user names."""
    name = spawner.user.name
    label = "".join(ch if ch.isascii() and (ch.islower() or ch.isdigit()) else f"x{ord(ch):02x}" for ch in name)
    spawner.extra_labels = {**(getattr(spawner, "extra_labels", None) or {}), "daqlab.io/user": label}
    return label
