"""Names the desk's tests share (imported by conftest.py and the tests)."""

from pathlib import Path

# Hook: the official-format workbooks (the departments' own layout) are uploaded with the demo's files by
# the browser test; put them in tests/desk/official/.
OFFICIAL_FORMAT_WORKBOOKS = sorted((Path(__file__).parent / "official").glob("*.xlsx"))
DEPARTMENT = "克孜勒苏柯尔克孜自治州数字化发展局"
OTHER = "克孜勒苏柯尔克孜自治州政务服务中心"
