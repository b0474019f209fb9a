oms_aws::http_main!(inventory::handle);
