"""Names the desk's tests share (imported by conftest.py and the tests)."""

DEPARTMENT = "克孜勒苏柯尔克孜自治州数字化发展局"
OTHER = "克孜勒苏柯尔克孜自治州政务服务中心"
