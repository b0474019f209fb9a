oms_aws::http_main!(order_intake::handle);
