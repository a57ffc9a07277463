"""``xlbudget serve``: the bureau's desk on this machine (thin: options → :func:`xlbudget.desk.create_app`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="serve")
@click.option("--db", "db_url", default=None,
              help="数据库：默认为 XLBUDGET_HOME 中的 SQLite；或 postgresql://用户@主机/库。")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="存放提交文件的文件夹（默认 XLBUDGET_HOME/desk-data）。")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址；非本机地址必须同时给出 --token。")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="端口。")
@click.option("--token", envvar="XLBUDGET_TOKEN", default=None,
              help="访问口令（也可用环境变量 XLBUDGET_TOKEN）：页面登录时输入，接口用 Authorization: Bearer。")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=2, show_default=True, help="并行检查的进程数。")
@click.option("--max-files", type=click.IntRange(min=1), default=2000, show_default=True, help="每次上传的文件数上限。")
@click.option("--max-file-mb", type=click.IntRange(min=1), default=50, show_default=True, help="单个文件大小上限（MB）。")
@click.option("--max-upload-mb", type=click.IntRange(min=1), default=1024, show_default=True,
              help="每次上传的总大小上限（MB）。")
def serve(db_url: str | None, data_dir: Path | None, host: str, port: int, token: str | None, jobs: int,
          max_files: int, max_file_mb: int, max_upload_mb: int) -> None:
    """启动收件台：在浏览器中提交、检查、查看和存档各部门的工作簿。"""
    from xlbudget.desk.security import is_loopback

    if not is_loopback(host) and not token:
        raise click.UsageError(f"监听非本机地址 {host} 时必须用 --token 设置访问口令，否则局域网内任何人都能访问。"
                               f"（listening on {host} needs --token）")
    if token is not None and len(token) < 8:
        raise click.UsageError("访问口令至少 8 个字符。（the token needs at least 8 characters）")
    import uvicorn

    from xlbudget.desk import DeskConfig, create_app

    cfg = DeskConfig(db_url=db_url, data_dir=data_dir, token=token, jobs=jobs, max_files=max_files,
                     max_file_mb=max_file_mb, max_upload_mb=max_upload_mb)
    app = create_app(cfg)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"收件台已启动：http://{shown}:{port}/ （数据：{cfg.data_dir}；按 Ctrl+C 停止）", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
